// expectClose, through which every float comparison of the kernel and model twin tests goes.
import { describe, expect, it } from 'vitest'
import { expectClose } from '../helpers'

describe('expectClose', () => {
  it('passes within the tolerance and fails past it, naming the worst index', () => {
    expect(() => expectClose([0, 1, 2.0005], [0, 1, 2], 1e-3)).not.toThrow()
    expect(() => expectClose([0, 1.5, 2.1], [0, 1, 2], 1e-3, 0, 'x')).toThrow('x differs at 1: 1.5 vs 1')
    expect(() => expectClose([0, 1, 2.1], [0, 1, 2], 0, 0.01)).toThrow(/differs at 2/)
  })

  it.each([
    ['first', [NaN, 1, 2], [0, 1, 2]],
    ['middle', [5, NaN, 2], [5, 1, 2]],
    ['last', [0, 1, NaN], [0, 1, 2]],
    ['expected', [0, 1, 2], [0, NaN, 2]],
    ['both', [0, NaN, 2], [0, NaN, 2]],
  ])('a NaN (%s) fails', (_where, actual, expected) => {
    expect(() => expectClose(actual, expected, 1e-3, 1e-3)).toThrow(/differs at \d: /)
  })

  it('an infinity fails, even against the same infinity', () => {
    expect(() => expectClose([0, Infinity], [0, 1], 1e-3)).toThrow(/differs at 1/)
    expect(() => expectClose([0, Infinity], [0, Infinity], 1e-3)).toThrow(/differs at 1/)
  })

  it('different lengths fail', () => {
    expect(() => expectClose([0, 1], [0, 1, 2], 1e-3)).toThrow()
  })
})
