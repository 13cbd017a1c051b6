// The trace viewer's text splitting: think / answer / rest, and reflection words.
import { describe, expect, it } from 'vitest'
import { hasReflection } from '../../src/rl/rewards'
import { advantageColor, completionParts, reflectionPieces } from '../../src/ui/traces/completionParts'

describe('completion parts', () => {
  it('sets the think and answer parts apart', () => {
    expect(completionParts('7+5=12, wait: 12</think><answer>12</answer>')).toEqual({ think: '7+5=12, wait: 12', answer: '12', rest: '', closedThink: true })
    expect(completionParts('no tags at all')).toEqual({ think: 'no tags at all', answer: null, rest: '', closedThink: false })
    expect(completionParts('x</think>junk<answer>3')).toEqual({ think: 'x', answer: '3', rest: 'junk', closedThink: true })
  })

  it('marks reflection words as whole words only', () => {
    expect(reflectionPieces('Wait, check: 3 checks')).toEqual([
      { text: 'Wait', reflection: true }, { text: ', ', reflection: false }, { text: 'check', reflection: true }, { text: ': 3 checks', reflection: false },
    ])
  })

  it('marks exactly what the reflection_rate metric counts', () => {
    for (const text of ['wait', 'Check it', 'recheck', 'verify!', 'hmm', 'a mistake', 'oops', 'waiting', 'checked', 'plain 12+3']) {
      expect(reflectionPieces(text).some((p) => p.reflection)).toBe(hasReflection(text))
    }
  })

  it('colours advantages by sign, saturating at |A| = 2', () => {
    expect(advantageColor(0)).toBe('rgba(42, 157, 92, 0.000)')
    expect(advantageColor(5)).toBe(advantageColor(2))
    expect(advantageColor(-1)).toMatch(/^rgba\(216/)
  })
})
