// Runs side by side: each run named by what it changes from the first, the list kept in the page
// (add, refresh, remove, the cap), the runs drawn with the shown one, and the final figures.
import { describe, expect, it } from 'vitest'
import { addCompared, changeName, compareNames, type ComparedRun, compareWith, configChanges, drawnRuns, finalFigures, removeCompared, stepIndex } from '../../src/lab/compare'
import { presetById } from '../../src/lab/presets'
import { DEFAULT_RUN_CONFIG, resolveRunConfig, type RunConfig } from '../../src/rl/config'

const cfg = (patch: Partial<RunConfig> = {}) => resolveRunConfig({ ...patch })
const run = (id: string, patch: Partial<RunConfig> = {}, name = id): ComparedRun =>
  ({ id, name, config: cfg(patch), metrics: [], evals: [], source: 'live' })

describe('naming a run by its change from the first', () => {
  it('names each changed key with its values, in the spec order', () => {
    const base = run('a'), other = run('b', { scale_rewards: 'none', loss_type: 'dr_grpo' })
    expect(configChanges(base.config, other.config)).toEqual([
      { key: 'loss_type', from: 'grpo', to: 'dr_grpo' }, { key: 'scale_rewards', from: 'group', to: 'none' }])
    expect(changeName(base, other)).toBe('loss_type: grpo→dr_grpo, scale_rewards: group→none')
  })

  it('says "same config, seed 1→2" when only the seed differs, "same config" when nothing does', () => {
    expect(changeName(run('a'), run('b', { seed: 2 }))).toBe('same config, seed 1→2')
    expect(changeName(run('a', {}, 'x'), run('b', {}, 'x'))).toBe('same config')
    expect(changeName(run('a', {}, 'x'), run('b', {}, 'other run'))).toBe('same config: other run')
    // the seed beside another change is one change among them
    expect(changeName(run('a'), run('b', { seed: 2, beta: 0.04 }))).toBe('seed: 1→2, beta: 0→0.04')
  })

  it('a preset pair reads as the preset\'s values; many changes are counted, not all spelled out', () => {
    const dapo = run('b', presetById('dapo')!.values)
    expect(changeName(run('a'), dapo)).toBe('loss_type: grpo→dapo, epsilon_high: 0.2→0.28, dynamic_sampling: false→true +1 more')
    expect(configChanges(run('a').config, dapo.config).map((c) => c.key)).toEqual(
      ['loss_type', 'epsilon_high', 'dynamic_sampling', 'overlong_buffer_length']) // overlong_penalty_factor 1.0 is the default
  })

  it('writes empty strings and lists readably', () => {
    const fresh = run('b', { base_model: '' })
    expect(changeName(run('a'), fresh)).toContain(`base_model: ${DEFAULT_RUN_CONFIG.base_model}→(none)`)
    expect(changeName(run('a'), run('b', { reward_weights: [1, 0.5] }))).toBe('reward_weights: (defaults)→1,0.5')
  })

  it('the first is the baseline; repeated names are told apart', () => {
    const runs = [run('a'), run('b', { beta: 0.04 }), run('c', { beta: 0.04 }), run('d', { seed: 3 })]
    expect(compareNames(runs)).toEqual(['baseline', 'beta: 0→0.04', 'beta: 0→0.04 #2', 'same config, seed 1→3'])
    expect(compareNames([])).toEqual([])
  })
})

describe('the compared-runs list', () => {
  it('adds at the end, refreshes a run already there in place, removes by id', () => {
    let list = addCompared([], run('a'))
    list = addCompared(list, run('b'))
    const a2 = { ...run('a'), metrics: [{ step: 1, reward: 1 }] }
    list = addCompared(list, a2)
    expect(list.map((r) => r.id)).toEqual(['a', 'b'])
    expect(list[0]).toBe(a2)
    expect(removeCompared(list, 'a').map((r) => r.id)).toEqual(['b'])
    expect(removeCompared(list, 'nope')).toEqual(list)
  })

  it('keeps the baseline past the cap: the oldest after it gives way', () => {
    let list: ComparedRun[] = []
    for (const id of ['a', 'b', 'c', 'd']) list = addCompared(list, run(id), 3)
    expect(list.map((r) => r.id)).toEqual(['a', 'c', 'd'])
  })

  it('comparing a run with the shown one: the shown one joins first and keeps its place', () => {
    const shown = { ...run('s'), metrics: [{ step: 1 }] }
    let list = compareWith([], shown, run('f1'))
    expect(list.map((r) => r.id)).toEqual(['s', 'f1'])
    list = compareWith(list, shown, run('f2'))
    expect(list.map((r) => r.id)).toEqual(['s', 'f1', 'f2'])
    // a new shown run (after Start) joins after the others, before the next file
    const next = { ...run('t'), metrics: [{ step: 1 }] }
    expect(compareWith(list, next, run('f3')).map((r) => r.id)).toEqual(['s', 'f1', 'f2', 't', 'f3'])
    // a shown run without steps, or the run itself, is not added twice
    expect(compareWith([], run('empty'), run('f1')).map((r) => r.id)).toEqual(['f1'])
    expect(compareWith([], shown, shown).map((r) => r.id)).toEqual(['s'])
  })

  it('draws the shown run in its own place (its newest steps), or last when it is not in the list', () => {
    const list = [run('a'), run('b')]
    const shownB = { ...run('b'), metrics: [{ step: 1 }, { step: 2 }] }
    expect(drawnRuns(list, shownB)).toEqual([list[0], shownB])
    const shownC = run('c')
    expect(drawnRuns(list, shownC).map((r) => r.id)).toEqual(['a', 'b', 'c'])
    expect(drawnRuns(list, null)).toEqual(list)
    expect(drawnRuns([], shownC)).toEqual([shownC])
  })
})

describe('final figures', () => {
  it('reads the last step and the last evaluation (pass@1, else accuracy)', () => {
    const metrics = [{ step: 1, reward: 0.1, accuracy: 0.2, 'completions/mean_length': 3, kl: 0 },
      { step: 2, reward: 0.5, accuracy: 0.75, 'completions/mean_length': 4.5, kl: 0.01 }]
    expect(finalFigures({ metrics, evals: [{ step: 2, metrics: { 'eval/pass@1': 0.6 } }] }))
      .toEqual({ steps: 2, reward: 0.5, accuracy: 0.75, evalPass: 0.6, meanLength: 4.5, kl: 0.01 })
    expect(finalFigures({ metrics, evals: [{ step: 2, metrics: { 'eval/accuracy': 0.4 } }] }).evalPass).toBe(0.4)
  })

  it('is null where a run does not log a figure, and for NaN; an empty run has 0 steps', () => {
    expect(finalFigures({ metrics: [{ step: 3, reward: NaN }], evals: [] }))
      .toEqual({ steps: 3, reward: null, accuracy: null, evalPass: null, meanLength: null, kl: null })
    expect(finalFigures({ metrics: [], evals: [] }).steps).toBe(0)
  })
})

describe('a scrubbed step as an index into the shown run', () => {
  const metrics = [{ step: 1 }, { step: 2 }, { step: 4 }]
  it('finds the step, else the last one before it, else the first', () => {
    expect(stepIndex(metrics, 2)).toBe(1)
    expect(stepIndex(metrics, 3)).toBe(1)
    expect(stepIndex(metrics, 9)).toBe(2)
    expect(stepIndex(metrics, 0)).toBe(0)
  })
})
