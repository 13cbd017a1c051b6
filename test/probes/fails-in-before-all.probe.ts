// A file whose setup fails: Vitest lists its two tests as skipped, not failed.
import { beforeAll, expect, it } from 'vitest'

beforeAll(() => { throw new Error('setup failed') })
it('one', () => { expect(1).toBe(1) })
it('two', () => { expect(2).toBe(2) })
