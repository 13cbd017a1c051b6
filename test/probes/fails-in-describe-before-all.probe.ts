// A suite whose setup fails next to one that passes: Vitest skips the failed suite's tests.
import { beforeAll, describe, expect, it } from 'vitest'

describe('set up in vain', () => {
  beforeAll(() => { throw new Error('suite setup failed') })
  it('one', () => { expect(1).toBe(1) })
  it('two', () => { expect(2).toBe(2) })
})

describe('fine', () => {
  it('three', () => { expect(3).toBe(3) })
})
