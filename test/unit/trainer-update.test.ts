// The trainer's update phase on a given rollout (CPU backend, a tiny fresh model): when the
// old-policy log-probs exist, what the loss kernel is given, and TRL 1.13's metric definitions.
import { describe, expect, it } from 'vitest'
import type { GrpoLossArgs, Tensor } from '../../src/engine/backend'
import { GrpoStat } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { EOS_ID } from '../../src/model/tokenizer'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer, grpoObjective, type UpdateRollout } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'
import { echoRollout as rollout } from '../fixtures/echoRollout'

const ECHO = { task: 'echo', base_model: '', seed: 4, n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, num_generations: 4,
  prompts_per_step: 2, max_completion_length: 4, learning_rate: 1e-2, lr_scheduler_type: 'constant' }

/** A CPU backend that keeps what each grpoLoss and logprobForward call was given (and runs them). */
class RecordingBackend extends CpuBackend {
  readonly losses: { args: GrpoLossArgs; weights: number[] }[] = []
  readonly invTemperatures: number[] = []
  override grpoLoss(a: GrpoLossArgs): void {
    this.losses.push({ args: a, weights: this.peek(a.weights) })
    super.grpoLoss(a)
  }
  override logprobForward(logp: Tensor, entropy: Tensor, logits: Tensor, targets: Tensor, rows: number, V: number, invT?: number): void {
    this.invTemperatures.push(invT ?? 1)
    super.logprobForward(logp, entropy, logits, targets, rows, V, invT)
  }
  private peek(t: Tensor): number[] {
    const data = (t.buffer as unknown as { data: Float32Array }).data
    return Array.from(data.slice(t.offset, t.offset + t.length))
  }
}

function trainerOf(extra: Record<string, unknown>, be = new RecordingBackend('f64')) {
  return { be, trainer: GRPOTrainer.create(be, resolveRunConfig({ ...ECHO, ...extra }), getTask('echo')) }
}

const sampleStd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1))
}
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

describe('old-policy log-probs (TRL: whenever an optimizer step can come between sampling and a minibatch)', () => {
  it('steps_per_generation = 2, μ = 1: the second minibatch sees the pre-update policy as old, so its ratio moves off 1', async () => {
    const { be, trainer } = trainerOf({ steps_per_generation: 2 })
    expect(trainer.needsOldLogprobs()).toBe(true)
    const r = await trainer.update(rollout(2, 4))
    expect(r.optimizerSteps).toHaveLength(2)
    // first minibatch: no update yet, old = current, ρ = 1 exactly
    expect(r.calls[0][GrpoStat.ratioMin]).toBe(1)
    expect(r.calls[0][GrpoStat.ratioMax]).toBe(1)
    // second: one AdamW step later, measured against the log-probs taken before it
    expect(Math.abs(r.calls[1][GrpoStat.ratioMax] - 1) + Math.abs(r.calls[1][GrpoStat.ratioMin] - 1)).toBeGreaterThan(1e-4)
    expect(be.losses.map((l) => l.args.oldLogp === l.args.logp)).toEqual([false, false])
  })

  it('one optimizer step per rollout (spg = 1, μ = 1, even with accumulation): none, the ratio is 1', async () => {
    const { be, trainer } = trainerOf({ gradient_accumulation_steps: 2 })
    expect(trainer.needsOldLogprobs()).toBe(false)
    const r = await trainer.update(rollout(2, 4))
    for (const st of r.calls) { expect(st[GrpoStat.ratioMin]).toBe(1); expect(st[GrpoStat.ratioMax]).toBe(1) }
    expect(be.losses.map((l) => l.args.oldLogp === l.args.logp)).toEqual([true, true])
  })

  it('μ = 2 needs them as well', () => {
    expect(trainerOf({ num_iterations: 2 }).trainer.needsOldLogprobs()).toBe(true)
  })
})

describe('what the loss kernel is given', () => {
  it('reference, old and policy log-probs all at 1 / temperature; temperature 0 trains at 1', async () => {
    for (const [temperature, invT] of [[0.7, 1 / 0.7], [0, 1]]) {
      const { be, trainer } = trainerOf({ temperature, beta: 0.1, steps_per_generation: 2 })
      await trainer.update(rollout(2, 4))
      // 2 microbatches × (reference + old) + 2 policy passes
      expect(be.invTemperatures).toEqual(new Array(6).fill(invT))
    }
  })

  it('the objective of the config, the entropy gradient buffer, and the policy temperature', async () => {
    const cfg = { loss_type: 'sapo', importance_sampling_level: 'sequence', delta: 1.5, sapo_temperature_pos: 0.9,
      sapo_temperature_neg: 1.2, vespo_k_pos: 2.5, vespo_lambda_pos: 3.5, vespo_k_neg: 3.1, vespo_lambda_neg: 2.1,
      top_entropy_quantile: 0.4, entropy_coef: 0.05, gradient_accumulation_steps: 2 }
    const { be, trainer } = trainerOf(cfg)
    await trainer.update(rollout(2, 4))
    expect(be.losses).toHaveLength(2)
    for (const { args } of be.losses) {
      expect(args.objective).toEqual({ kind: 'sapo', sequenceLevel: true, delta: 1.5, sapoTemperaturePos: 0.9, sapoTemperatureNeg: 1.2,
        vespoKPos: 2.5, vespoLambdaPos: 3.5, vespoKNeg: 3.1, vespoLambdaNeg: 2.1, topEntropyQuantile: 0.4, entropyCoef: 0.05,
        gradientAccumulationSteps: 2, klBiasCorrection: true })
      expect(args.dentropy).toBeDefined()
    }
    for (const [loss, kind] of [['grpo', 'clip'], ['bnpo', 'clip'], ['dr_grpo', 'clip'], ['dapo', 'clip'], ['luspo', 'clip'],
      ['cispo', 'cispo'], ['vespo', 'vespo']]) {
      expect(grpoObjective(resolveRunConfig({ ...ECHO, loss_type: loss })).kind).toBe(kind)
    }
  })

  it('dapo: every minibatch is normalised by the whole rollout\'s counted tokens / steps_per_generation (TRL)', async () => {
    const { be, trainer } = trainerOf({ loss_type: 'dapo', steps_per_generation: 2 })
    const ro = rollout(2, 4)
    const tokens = ro.completionIds.reduce((s, x) => s + x.length, 0)
    await trainer.update(ro)
    for (const { weights } of be.losses) for (const w of weights) expect(w).toBe(Math.fround(2 / tokens)) // the weights are float32
    // the two minibatches hold different numbers of tokens: a per-minibatch count would differ
    const half = ro.completionIds.slice(0, 4).reduce((s, x) => s + x.length, 0)
    expect(half * 2).not.toBe(tokens)
  })
})

describe('metrics, as TRL 1.13 logs them', () => {
  it('reward_std and rewards/<f>/std are sample standard deviations of the whole batch; kl only with β > 0', async () => {
    const ro = rollout(2, 4)
    for (const beta of [0, 0.1]) {
      const { trainer } = trainerOf({ beta })
      const m = (await trainer.update(ro)).metrics
      expect(m.reward).toBeCloseTo(meanOf(ro.rewards), 12)
      expect(m.reward_std).toBeCloseTo(sampleStd(ro.rewards), 12)
      trainer.rewardFunctionNames().forEach((name, k) => {
        const v = ro.rewardsPerFunc!.map((r) => r[k])
        expect(m[`rewards/${name}/mean`]).toBeCloseTo(meanOf(v), 12)
        expect(m[`rewards/${name}/std`]).toBeCloseTo(sampleStd(v), 12)
      })
      expect('kl' in m).toBe(beta > 0)
    }
  })

  it('entropy, kl, clip ratios: the mean over loss calls of each call\'s value; low_min / high_max averaged the same way', async () => {
    const { trainer } = trainerOf({ beta: 0.1, steps_per_generation: 2, gradient_accumulation_steps: 2, num_iterations: 2 })
    const r = await trainer.update(rollout(2, 4))
    expect(r.calls).toHaveLength(8)
    const perCall = (num: number, den: number) => meanOf(r.calls.map((st) => st[num] / Math.max(1, st[den])))
    expect(r.metrics.entropy).toBeCloseTo(perCall(GrpoStat.entropy, GrpoStat.count), 12)
    expect(r.metrics.kl).toBeCloseTo(perCall(GrpoStat.kl, GrpoStat.count), 12)
    expect(r.metrics['clip_ratio/low_mean']).toBeCloseTo(perCall(GrpoStat.clipLow, GrpoStat.clipCount), 12)
    expect(r.metrics['clip_ratio/high_mean']).toBeCloseTo(perCall(GrpoStat.clipHigh, GrpoStat.clipCount), 12)
    expect(r.metrics['clip_ratio/region_mean']).toBeCloseTo(perCall(GrpoStat.clipRegion, GrpoStat.clipCount), 12)
    expect(r.metrics['clip_ratio/low_min']).toBeCloseTo(meanOf(r.calls.map((st) => st[GrpoStat.clipLowMin])), 12)
    expect(r.metrics['clip_ratio/high_max']).toBeCloseTo(meanOf(r.calls.map((st) => st[GrpoStat.clipHighMax])), 12)
    // a token-weighted mean over the whole update differs when the calls' token counts do
    const counts = r.calls.map((st) => st[GrpoStat.count])
    expect(new Set(counts).size).toBeGreaterThan(1)
    // loss: the mean over optimizer steps of each step's summed microbatch losses
    expect(r.optimizerSteps).toHaveLength(4)
    r.optimizerSteps.forEach((o, s) => expect(o.loss).toBe(r.calls[2 * s][GrpoStat.loss] + r.calls[2 * s + 1][GrpoStat.loss]))
    expect(r.metrics.loss).toBeCloseTo(meanOf(r.optimizerSteps.map((o) => o.loss)), 12)
    expect(r.metrics.grad_norm).toBeCloseTo(meanOf(r.optimizerSteps.map((o) => o.gradNorm)), 12)
  })

  it('each loss type logs its own ratio metric; policy_loss and entropy_coef only with an entropy bonus', async () => {
    const keys = async (extra: Record<string, unknown>) => Object.keys((await trainerOf(extra).trainer.update(rollout(2, 4))).metrics)
    const clip = await keys({})
    expect(clip).toEqual(expect.arrayContaining(['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean']))
    expect(clip).not.toContain('cispo_clip_ratio')
    expect(clip).not.toContain('policy_loss')
    const cispo = await keys({ loss_type: 'cispo', epsilon_high: 4 })
    expect(cispo).toContain('cispo_clip_ratio')
    expect(cispo).not.toContain('clip_ratio/low_mean')
    expect(await keys({ loss_type: 'vespo' })).toContain('vespo/phi_seq_mean')
    const sapo = await keys({ loss_type: 'sapo' })
    expect(sapo.filter((k) => k.startsWith('clip_ratio') || k.startsWith('cispo') || k.startsWith('vespo'))).toEqual([])
    const bonus = (await trainerOf({ entropy_coef: 0.03 }).trainer.update(rollout(2, 4))).metrics
    expect(bonus.entropy_coef).toBe(0.03)
    expect(bonus).toHaveProperty('policy_loss')
  })

  it('completions: lengths with the end token, terminated lengths (0 when none terminated), clipped_ratio = truncated', async () => {
    const ro = rollout(2, 4)
    const m = (await trainerOf({}).trainer.update(ro)).metrics
    const lengths = ro.completionIds.map((x) => x.length)
    const term = lengths.filter((_, i) => !ro.truncated[i])
    expect(term.length).toBeGreaterThan(0)
    expect(term.length).toBeLessThan(lengths.length)
    expect(m['completions/mean_length']).toBeCloseTo(meanOf(lengths), 12)
    expect(m['completions/clipped_ratio']).toBeCloseTo(ro.truncated.filter(Boolean).length / lengths.length, 12)
    expect(m['completions/mean_terminated_length']).toBeCloseTo(meanOf(term), 12)
    expect(m['completions/min_terminated_length']).toBe(Math.min(...term))
    expect(m['completions/max_terminated_length']).toBe(Math.max(...term))
    const cut: UpdateRollout = { ...ro, completionIds: ro.completionIds.map((ids) => ids.map((id) => (id === EOS_ID ? 3 : id))), truncated: ro.truncated.map(() => true) }
    const none = (await trainerOf({}).trainer.update(cut)).metrics
    for (const k of ['mean', 'min', 'max']) expect(none[`completions/${k}_terminated_length`]).toBe(0)
  })

  it('num_tokens: prompt and completion tokens of every rollout so far, kept through snapshot / restore', async () => {
    const a = rollout(2, 4, 1); const b = rollout(2, 4, 2)
    const tokens = (ro: UpdateRollout) => [...ro.promptIds, ...ro.completionIds].reduce((s, x) => s + x.length, 0)
    const { trainer } = trainerOf({})
    expect((await trainer.update(a)).metrics.num_tokens).toBe(tokens(a))
    const snap = await trainer.snapshot()
    expect((await trainer.update(b)).metrics.num_tokens).toBe(tokens(a) + tokens(b))
    const resumed = trainerOf({}).trainer
    resumed.restore(snap)
    expect((await resumed.update(b)).metrics.num_tokens).toBe(tokens(a) + tokens(b))
  })

  it('normalize_then_sum without each function\'s scores is refused, naming what is missing', async () => {
    const { trainer } = trainerOf({ multi_objective_aggregation: 'normalize_then_sum' })
    await expect(trainer.update({ ...rollout(2, 4), rewardsPerFunc: undefined })).rejects.toThrow(/normalize_then_sum needs .*rewardsPerFunc/)
  })
})
