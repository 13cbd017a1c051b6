// Share links: readable, only non-default values (and the seed), versioned; hostile input is
// reported key by key and never gets past the checks.
import { describe, expect, it } from 'vitest'
import { encodeLink, parseLink } from '../../src/lab/link'
import { PRESETS } from '../../src/lab/presets'
import { DEFAULT_RUN_CONFIG, resolveRunConfig } from '../../src/rl/config'

describe('share links', () => {
  it('writes the version, the seed and only what differs from the defaults', () => {
    const link = encodeLink({ ...DEFAULT_RUN_CONFIG, beta: 0.04, seed: 7 })
    expect(link).toBe('#v=1&seed=7&beta=0.04')
    expect(encodeLink(DEFAULT_RUN_CONFIG)).toBe('#v=1&seed=1')
  })

  it('round-trips every preset, hidden controls and autostart', () => {
    for (const p of PRESETS) {
      const config = resolveRunConfig({ ...p.values, seed: 3 })
      const parsed = parseLink('https://example.org/lab/' + encodeLink(config, ['beta', 'worksheet'], true))
      expect(parsed.problems).toEqual([])
      expect(resolveRunConfig(parsed.values)).toEqual(config)
      expect(parsed.hidden).toEqual(['beta', 'worksheet'])
      expect(parsed.autostart).toBe(true)
    }
  })

  it('names the bad key and the allowed values, and keeps the good ones', () => {
    const parsed = parseLink('#v=1&num_generations=1&loss_type=ppo&beta=0.1&seed=abc')
    expect(parsed.values).toEqual({ beta: 0.1 })
    const byKey = Object.fromEntries(parsed.problems.map((p) => [p.key, p.message]))
    expect(byKey.num_generations).toContain('an integer from 2 to 64')
    expect(byKey.loss_type).toContain('grpo, bnpo, dr_grpo, dapo')
    expect(byKey.seed).toContain('allowed')
  })

  it('refuses hostile keys and values without evaluating them', () => {
    const parsed = parseLink('#v=1&__proto__=1&constructor=x&task=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&evil_hide=1&autostart=yes')
    expect(Object.keys(parsed.values)).toEqual([])
    expect(parsed.problems.map((p) => p.key).sort()).toEqual(['__proto__', 'autostart', 'constructor', 'evil_hide', 'task'])
    expect(parsed.hidden).toEqual([])
    expect(parsed.autostart).toBe(false)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('says why a link of another version cannot be read', () => {
    const parsed = parseLink('#v=9&beta=0.1')
    expect(parsed.values).toEqual({})
    expect(parsed.problems[0]).toMatchObject({ key: 'v' })
    expect(parsed.problems[0].message).toContain('version')
  })

  it('drops a value that conflicts with another key and says so', () => {
    const parsed = parseLink('#v=1&n_embd=30&n_head=4')
    expect(parsed.problems.map((p) => p.key)).toEqual(['n_head'])
    expect(parsed.values).toEqual({ n_embd: 30 })
  })
})
