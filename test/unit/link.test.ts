// Share links: readable, only non-default values (and the seed), versioned; hostile input is
// reported key by key and never gets past the checks.
import { describe, expect, it } from 'vitest'
import { encodeLink, parseLink } from '../../src/lab/link'
import { PRESETS } from '../../src/lab/presets'
import { DEFAULT_RUN_CONFIG, resolvePartial, resolveRunConfig } from '../../src/rl/config'

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

  it('carries a lesson id and replay=1, and refuses a lesson that is not an id', () => {
    const link = encodeLink(DEFAULT_RUN_CONFIG, ['knobs'], false, { lesson: 'group-advantage', replay: true })
    expect(link).toBe('#v=1&seed=1&knobs_hide=1&lesson=group-advantage&replay=1')
    const parsed = parseLink(link)
    expect(parsed).toMatchObject({ lesson: 'group-advantage', replay: true, hidden: ['knobs'], problems: [] })
    expect(parseLink('#v=1').lesson).toBeNull()
    const bad = parseLink('#v=1&lesson=../../evil.js&replay=yes')
    expect(bad.lesson).toBeNull()
    expect(bad.replay).toBe(false)
    expect(bad.problems.map((p) => p.key)).toEqual(['lesson', 'replay'])
    expect(bad.problems[0].message).toContain('lower-case letters, digits and dashes')
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

  it('mends a conflict by refusing the link\'s own key, never one it did not name', () => {
    // the three links: each once left a blank page (n_head was named, though no link set it)
    const one = parseLink('#v=1&n_embd=98')
    expect(one.problems.map((p) => p.key)).toEqual(['n_embd'])
    expect(one.problems[0].message).toBe('n_embd: n_head = 4 does not divide n_embd = 98; allowed: a multiple of n_head = 4 from 8 to 512')
    const two = parseLink('#v=1&steps_per_generation=3&gradient_accumulation_steps=5')
    expect(two.problems.map((p) => p.key)).toEqual(['steps_per_generation', 'gradient_accumulation_steps'])
    expect(two.problems[1].message).toContain('= 64 completions do not split into steps_per_generation × gradient_accumulation_steps = 1 × 5 = 5')
    expect(two.problems[1].message).toContain('allowed: 1, 2, 4, 8, 16, 32, 64')
    const three = parseLink('#v=1&n_embd=98&gradient_accumulation_steps=9&beta=0.1')
    expect(three.problems.map((p) => p.key)).toEqual(['n_embd', 'gradient_accumulation_steps'])
    expect(three.values).toEqual({ beta: 0.1 })
  })

  it('refuses the key whose refusal alone mends the rule, and keeps the other', () => {
    const parsed = parseLink('#v=1&n_embd=30&n_head=4')
    expect(parsed.problems.map((p) => p.key)).toEqual(['n_embd'])
    expect(parsed.values).toEqual({ n_head: 4 })
    const both = parseLink('#v=1&n_embd=30&n_head=7')
    expect(both.problems.map((p) => p.key)).toEqual(['n_head', 'n_embd'])
    expect(both.problems[0].message).toContain('allowed: 1, 2, 3, 5, 6, 10, 15')
  })

  it('a completion must fit the context: block_size for fresh weights, the shipped manifest for a shipped base model', () => {
    const shipped = parseLink('#v=1&max_completion_length=100')
    expect(shipped.problems).toEqual([{ key: 'max_completion_length', message: 'max_completion_length: prompts of task addition take up to 16 ' +
      'characters, and with max_completion_length = 100 a sequence needs 116 positions: more than the context of base model addition = 96; ' +
      'allowed: an integer from 1 to 80' }])
    // block_size does not matter with a shipped base model (its context overrides it) …
    expect(parseLink('#v=1&block_size=16').problems).toEqual([])
    // … but it does for fresh weights, where refusing it alone mends the rule
    const fresh = parseLink('#v=1&base_model=&block_size=16&max_completion_length=4')
    expect(fresh.problems.map((p) => p.key)).toEqual(['block_size'])
    expect(fresh.problems[0].message).toContain('more than block_size (fresh weights) = 16; allowed: an integer from 20 to 512')
    expect(fresh.values).toEqual({ base_model: '', max_completion_length: 4 })
    // a checkpoint the config cannot see into is checked when it loads (by the trainer)
    expect(parseLink('#v=1&base_model=models/mine.safetensors&max_completion_length=400').problems).toEqual([])
  })

  it('reward_weights has one weight per reward function of the task, or none', () => {
    const parsed = parseLink('#v=1&reward_weights=1,2,3')
    expect(parsed.problems.map((p) => p.key)).toEqual(['reward_weights'])
    expect(parsed.problems[0].message).toContain('task addition has 2 reward functions (accuracy, format), and reward_weights has 3 weights')
    expect(parsed.problems[0].message).toContain('allowed: empty')
    expect(parseLink('#v=1&reward_weights=1,0.5').problems).toEqual([])
    expect(parseLink('#v=1&reward_weights=').problems).toEqual([])
  })

  it('a task the shipped base model cannot write, and a cold start on a task without worked examples, are refused', () => {
    const task = parseLink('#v=1&task=countdown')
    expect(task.problems[0].message).toBe('task: base model addition has no tokens for "()*,-[]", which task countdown writes; allowed: addition, echo')
    expect(parseLink('#v=1&task=countdown&base_model=countdown').problems).toEqual([])
    const cold = parseLink('#v=1&task=echo&cold_start_steps=3')
    expect(cold.problems.map((p) => p.key)).toEqual(['cold_start_steps'])
    expect(cold.values).toEqual({ task: 'echo' })
  })

  it('a typed value over a configuration that breaks a rule (a run saved by an older version) resolves, never throws', () => {
    const old = { ...DEFAULT_RUN_CONFIG, task: 'countdown' } // countdown on the addition base model
    const r = resolvePartial({ beta: 0.1 }, old)
    expect(r.config.beta).toBe(0.1)
    expect(r.problems.map((p) => p.key)).toEqual(['task'])
    // over a valid configuration only the typed key can be refused
    expect(resolvePartial({ n_head: 3 }, { ...DEFAULT_RUN_CONFIG, n_embd: 32 }).problems.map((p) => p.key)).toEqual(['n_head'])
  })

  it('epsilon_high follows epsilon (TRL), and a link of both keeps both', () => {
    const config = resolveRunConfig({ epsilon: 0.3, epsilon_high: 0.2 })
    expect(config.epsilon_high).toBe(0.2)
    expect(resolveRunConfig(parseLink(encodeLink(config)).values)).toEqual(config)
    expect(resolveRunConfig(parseLink('#v=1&epsilon=0.3').values).epsilon_high).toBe(0.3)
  })
})
