// GRPO math on the CPU twins against values worked out from TRL's definitions.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { computeWorksheet, parseWorksheetInput } from '../../src/rl/worksheet'
import { sequenceWeights } from '../../src/rl/loss'
import { GRPO_CASES } from '../fixtures/grpoCases'

const close = (a: number, b: number, tol = 1e-6) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)))

describe('GRPO worksheet (CPU twins) matches TRL definitions', () => {
  for (const [name, c] of Object.entries(GRPO_CASES)) {
    it(name, async () => {
      const out = await computeWorksheet(new CpuBackend('f64'), parseWorksheetInput(JSON.parse(JSON.stringify(c.input))))
      const e = c.expected
      expect(out.advantages).toHaveLength(e.advantages.length)
      expect(out.completions.map((comp) => comp.objective.length)).toEqual(e.objective.map((o) => o.length))
      out.advantages.forEach((a, i) => close(a, e.advantages[i]))
      close(out.loss, e.loss)
      // TRL logs kl only when β > 0
      if (out.config.beta > 0) close(out.metrics.kl, e.kl)
      else expect(out.metrics.kl).toBeUndefined()
      close(out.metrics['clip_ratio/low_mean'], e.low)
      close(out.metrics['clip_ratio/high_mean'], e.high)
      close(out.metrics['clip_ratio/region_mean'], e.region)
      close(out.metrics.frac_reward_zero_std, e.frac)
      out.completions.forEach((comp, i) => comp.objective.forEach((o, t) => close(o, e.objective[i][t])))
    })
  }

  it('at μ = 1 the grpo loss is 0 while its gradient is not', async () => {
    const out = await computeWorksheet(new CpuBackend('f64'), parseWorksheetInput(JSON.parse(JSON.stringify(GRPO_CASES.two_completions_mu1.input))))
    expect(out.loss).toBe(0)
    const A = GRPO_CASES.two_completions_mu1.expected.advantages
    // dL/dlogp = −A_i / (N · |o_i|): N = 2, lengths 2 and 1
    close(out.completions[0].grad[0], -A[0] / (2 * 2))
    close(out.completions[1].grad[0], -A[1] / (2 * 1))
  })

  it('ratios far outside the clip range: clipped tokens carry no gradient, the others do', async () => {
    const out = await computeWorksheet(new CpuBackend('f64'), parseWorksheetInput(JSON.parse(JSON.stringify(GRPO_CASES.far_outside_clip.input))))
    const [c0, c1, c2] = out.completions
    expect(c0.clip).toEqual(['high', null]) // ρ = e^1.4 with A > 0
    expect(c0.grad[0]).toBe(0)
    expect(c1.clip).toEqual(['low', null]) // ρ = e^−2.5 with A < 0
    expect(c1.grad[0]).toBe(0)
    expect(c2.clip).toEqual([null]) // ρ = e^2 with A < 0: the unclipped branch is the min, gradient flows
    expect(c2.grad[0]).toBeGreaterThan(0)
  })
})

describe('epsilon_high defaults to epsilon (TRL)', () => {
  // ρ = e^0.25 ≈ 1.284 with A > 0: inside 1 + 0.3, outside 1 + 0.2
  const input = (config: Record<string, number>) => parseWorksheetInput({ config,
    groups: [{ rewards: [1, 0], completions: [{ logp: [-0.1], logp_old: [-0.35] }, { logp: [-1] }] }] })

  it('epsilon alone sets both ends of the clip range', async () => {
    const cfg = input({ epsilon: 0.3 })
    expect(cfg.config.epsilon_high).toBe(0.3)
    const out = await computeWorksheet(new CpuBackend('f64'), cfg)
    expect(out.completions[0].clip).toEqual([null])
  })

  it('an epsilon_high of its own is kept', async () => {
    const cfg = input({ epsilon: 0.3, epsilon_high: 0.2 })
    expect(cfg.config.epsilon_high).toBe(0.2)
    expect((await computeWorksheet(new CpuBackend('f64'), cfg)).completions[0].clip).toEqual(['high'])
  })
})

describe('aggregation weights per loss_type', () => {
  it('grpo, bnpo, dr_grpo, dapo, with gradient accumulation', () => {
    const counts = [2, 4, 0]
    const o = { maxCompletionLength: 8, gradientAccumulationSteps: 2, numItemsInBatch: 12 }
    expect(Array.from(sequenceWeights('grpo', counts, o))).toEqual([1 / 12, 1 / 24, 1 / 6].map(Math.fround))
    expect(Array.from(sequenceWeights('bnpo', counts, o))).toEqual([1 / 12, 1 / 12, 1 / 12].map(Math.fround))
    expect(Array.from(sequenceWeights('dr_grpo', counts, o))).toEqual([1 / 48, 1 / 48, 1 / 48].map(Math.fround))
    expect(Array.from(sequenceWeights('dapo', counts, o))).toEqual([1 / 12, 1 / 12, 1 / 12].map(Math.fround))
  })
})

describe('worksheet input validation names the field and the allowed values', () => {
  const ok = { groups: [{ rewards: [1, 0], completions: [{ logp: [-1] }, { logp: [-2] }] }] }
  it.each([
    [{ ...ok, config: { loss_type: 'ppo' } }, /config.loss_type: got "ppo"; allowed: grpo, bnpo, dr_grpo, dapo/],
    [{ ...ok, config: { scale_rewards: true } }, /config.scale_rewards: got true; allowed: group, batch, none/],
    [{ ...ok, config: { epsilon: -1 } }, /config.epsilon: got -1; allowed: a number from 0 to 1/],
    [{ groups: [{ rewards: [1], completions: [{ logp: [-1] }] }] }, /groups\[0\].rewards: needs at least 2 values/],
    [{ groups: [{ rewards: [1, 0], completions: [{ logp: [0.5] }, { logp: [-2] }] }] }, /groups\[0\].completions\[0\].logp\[0\]: a log-probability must be ≤ 0/],
    [{ groups: [{ rewards: [1, 0], completions: [{ logp: [-1], logp_old: [-1, -2] }, { logp: [-2] }] }] }, /logp_old: has 2 values, logp has 1/],
    [{ groups: [] }, /groups: expected a non-empty array/],
    [{ ...ok, config: { lr: 1 } }, /config.lr: unknown key/],
  ])('%#', (input, message) => {
    expect(() => parseWorksheetInput(input)).toThrow(message)
  })
})
