// One GRPO loss computed from given numbers, for teaching and for checking: rewards →
// advantages → ratios → clipped objective → KL → the aggregated loss of the chosen loss_type.
// Runs on the same kernels as training (or their CPU twins); `grpo-lab worksheet` and the
// lab's worksheet panel both call it.

import type { Backend, MultiObjectiveAggregation, ScaleRewards, Tensor } from '../engine/backend'
import { GRPO_STATS, GrpoStat, MULTI_OBJECTIVE_AGGREGATIONS, SCALE_REWARDS, whole } from '../engine/backend'
import {
  grpoObjective, IMPORTANCE_SAMPLING_LEVELS, LOSS_TYPES, objectiveKind, type ObjectiveKeys, sequenceWeights,
} from './loss'

/** The GRPOConfig keys the worksheet takes, by TRL's names (the objective's from ObjectiveKeys). */
export interface WorksheetConfig extends ObjectiveKeys {
  scale_rewards: ScaleRewards
  epsilon: number
  epsilon_high: number
  beta: number
  max_completion_length: number
  mask_truncated_completions: boolean
  multi_objective_aggregation: MultiObjectiveAggregation
  /** one weight per reward function; null = all 1 (TRL's None) */
  reward_weights: number[] | null
}

export interface WorksheetCompletion {
  logp: number[]
  logp_old?: number[]
  logp_ref?: number[]
  /** per-token entropy of the policy (top_entropy_quantile, the entropy bonus, the entropy metric) */
  entropy?: number[]
  truncated?: boolean
}

export interface WorksheetGroup {
  /** one reward per completion (one reward function), or */
  rewards?: number[]
  /** each completion's scores of K reward functions */
  rewards_per_func?: number[][]
  completions: WorksheetCompletion[]
}

export interface WorksheetInput {
  config: Partial<WorksheetConfig>
  groups: WorksheetGroup[]
}

/** A parsed input: every group has rewards_per_func ([G][K]). */
export type ParsedWorksheetInput = { config: WorksheetConfig; groups: (WorksheetGroup & { rewards_per_func: number[][] })[] }

export interface WorksheetOutput {
  config: WorksheetConfig
  advantages: number[]
  loss: number
  completions: {
    /** the importance weight each token used: its own ratio, or its sequence's (sequence level) */
    ratio: number[]; objective: number[]; kl: number[]; clipped: boolean[]; clip: ('low' | 'high' | null)[]
    /** dloss/dlogp per token: what the backward pass starts from */
    grad: number[]
    /** dloss/dentropy per token (entropy_coef > 0 only) */
    grad_entropy?: number[]
  }[]
  /** TRL's metric names; each loss type logs its own (NaN where TRL's would be NaN) */
  metrics: Record<string, number>
}

/** TRL's GRPOConfig defaults (trl 1.13) for the keys the worksheet takes. */
export const WORKSHEET_DEFAULTS: WorksheetConfig = {
  loss_type: 'dapo', scale_rewards: 'group', epsilon: 0.2, epsilon_high: 0.2, beta: 0.0,
  max_completion_length: 512, mask_truncated_completions: false, importance_sampling_level: 'token', delta: 0,
  top_entropy_quantile: 1.0, entropy_coef: 0.0, sapo_temperature_pos: 1.0, sapo_temperature_neg: 1.05,
  vespo_k_pos: 2.0, vespo_lambda_pos: 3.0, vespo_k_neg: 3.0, vespo_lambda_neg: 2.0,
  multi_objective_aggregation: 'sum_then_normalize', reward_weights: null, use_bias_correction_kl: true,
}

export class InputError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message}`) }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
/** A value as it reads in a message: cut short, since it may be megabytes of a pasted file. */
const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60)

function finiteNumbers(v: unknown, field: string, opts: { min?: number; max?: number; minLength?: number } = {}): number[] {
  if (!Array.isArray(v)) throw new InputError(field, `expected an array of numbers, got ${shown(v)}`)
  if (v.length < (opts.minLength ?? 0)) throw new InputError(field, `needs at least ${opts.minLength} values, got ${v.length}`)
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`${field}[${i}]`, `expected a finite number, got ${shown(x)}`)
    if (opts.max !== undefined && x > opts.max) throw new InputError(`${field}[${i}]`, `a log-probability must be ≤ 0, got ${x}`)
    if (opts.min !== undefined && x < opts.min) throw new InputError(`${field}[${i}]`, `an entropy must be ≥ 0, got ${x}`)
  })
  return v as number[]
}

function number(v: unknown, field: string, lo: number, hi: number, dflt: number, integer = false): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new InputError(field, `got ${shown(v)}; allowed: ${integer ? 'an integer' : 'a number'} from ${lo} to ${hi}`)
  }
  return v
}

function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new InputError(field, `got ${shown(v)}; allowed: ${allowed.join(', ')}`)
  return v as T
}

export function parseWorksheetConfig(c: unknown): WorksheetConfig {
  if (c === undefined) c = {}
  if (!isObject(c)) throw new InputError('config', 'expected an object')
  const known = Object.keys(WORKSHEET_DEFAULTS)
  for (const k of Object.keys(c)) if (!known.includes(k)) throw new InputError(`config.${k.slice(0, 40)}`, `unknown key; allowed: ${known.join(', ')}`)
  const D = WORKSHEET_DEFAULTS
  const num = (k: keyof WorksheetConfig, lo: number, hi: number, dflt = D[k] as number, integer = false) =>
    number(c[k], `config.${k}`, lo, hi, dflt, integer)
  const epsilon = num('epsilon', 0, 1)
  const flag = (k: 'mask_truncated_completions' | 'use_bias_correction_kl') => {
    const v = c[k]
    if (v !== undefined && typeof v !== 'boolean') throw new InputError(`config.${k}`, `got ${shown(v)}; allowed: true, false`)
    return (v as boolean | undefined) ?? D[k]
  }
  let weights: number[] | null = null
  if (c.reward_weights !== undefined && c.reward_weights !== null) {
    weights = finiteNumbers(c.reward_weights, 'config.reward_weights', { minLength: 1 })
  }
  return {
    loss_type: oneOf(c.loss_type, 'config.loss_type', LOSS_TYPES, D.loss_type),
    scale_rewards: oneOf(c.scale_rewards, 'config.scale_rewards', SCALE_REWARDS, D.scale_rewards),
    epsilon,
    epsilon_high: num('epsilon_high', 0, 10, epsilon), // TRL: defaults to epsilon
    beta: num('beta', 0, 100),
    max_completion_length: num('max_completion_length', 1, 100000, D.max_completion_length, true),
    mask_truncated_completions: flag('mask_truncated_completions'),
    importance_sampling_level: oneOf(c.importance_sampling_level, 'config.importance_sampling_level', IMPORTANCE_SAMPLING_LEVELS, D.importance_sampling_level),
    delta: c.delta === null ? 0 : num('delta', 0, 100),
    top_entropy_quantile: num('top_entropy_quantile', 0, 1),
    entropy_coef: num('entropy_coef', 0, 10),
    sapo_temperature_pos: num('sapo_temperature_pos', 0.01, 100),
    sapo_temperature_neg: num('sapo_temperature_neg', 0.01, 100),
    vespo_k_pos: num('vespo_k_pos', 0, 100),
    vespo_lambda_pos: num('vespo_lambda_pos', 0, 100),
    vespo_k_neg: num('vespo_k_neg', 0, 100),
    vespo_lambda_neg: num('vespo_lambda_neg', 0, 100),
    multi_objective_aggregation: oneOf(c.multi_objective_aggregation, 'config.multi_objective_aggregation',
      MULTI_OBJECTIVE_AGGREGATIONS, D.multi_objective_aggregation),
    reward_weights: weights,
    use_bias_correction_kl: flag('use_bias_correction_kl'),
  }
}

export function parseWorksheetInput(raw: unknown): ParsedWorksheetInput {
  if (!isObject(raw)) throw new InputError('input', 'expected a JSON object with "config" and "groups"')
  for (const k of Object.keys(raw)) if (k !== 'config' && k !== 'groups') throw new InputError(k.slice(0, 40), 'unknown key; allowed: config, groups')
  const config = parseWorksheetConfig(raw.config)
  if (!Array.isArray(raw.groups) || raw.groups.length === 0) throw new InputError('groups', 'expected a non-empty array of groups')
  let G = -1
  let K = -1
  const groups = raw.groups.map((g, gi) => {
    const f = `groups[${gi}]`
    if (!isObject(g)) throw new InputError(f, 'expected an object with "rewards" (or "rewards_per_func") and "completions"')
    for (const k of Object.keys(g)) {
      if (!['rewards', 'rewards_per_func', 'completions'].includes(k)) throw new InputError(`${f}.${k.slice(0, 40)}`, 'unknown key; allowed: rewards, rewards_per_func, completions')
    }
    const perFunc = groupRewards(g, f)
    if (G === -1) { G = perFunc.length; K = perFunc[0].length }
    if (perFunc.length !== G) throw new InputError(`${f}.rewards`, `has ${perFunc.length} values; every group needs the same size (${G})`)
    if (perFunc.some((r) => r.length !== K)) throw new InputError(`${f}.rewards_per_func`, `every completion needs the same ${K} reward-function scores`)
    if (!Array.isArray(g.completions) || g.completions.length !== G) {
      throw new InputError(`${f}.completions`, `expected ${G} completions (one per reward)`)
    }
    const completions = g.completions.map((c, ci) => parseCompletion(c, `${f}.completions[${ci}]`, config))
    return { rewards_per_func: perFunc, completions }
  })
  if (config.reward_weights && config.reward_weights.length !== K) {
    throw new InputError('config.reward_weights', `has ${config.reward_weights.length} weights; the groups have ${K} reward functions`)
  }
  return { config, groups }
}

/** A group's rewards as [G][K]: "rewards" is one reward function. */
function groupRewards(g: Record<string, unknown>, f: string): number[][] {
  if ((g.rewards === undefined) === (g.rewards_per_func === undefined)) {
    throw new InputError(f, 'needs exactly one of "rewards" (one per completion) and "rewards_per_func" (per completion, one per function)')
  }
  if (g.rewards !== undefined) return finiteNumbers(g.rewards, `${f}.rewards`, { minLength: 2 }).map((r) => [r])
  const rows = g.rewards_per_func
  if (!Array.isArray(rows) || rows.length < 2) throw new InputError(`${f}.rewards_per_func`, 'expected at least 2 rows (one per completion)')
  return rows.map((r, i) => finiteNumbers(r, `${f}.rewards_per_func[${i}]`, { minLength: 1 }))
}

function parseCompletion(c: unknown, cf: string, config: WorksheetConfig): WorksheetCompletion {
  if (!isObject(c)) throw new InputError(cf, 'expected an object with "logp"')
  for (const k of Object.keys(c)) {
    if (!['logp', 'logp_old', 'logp_ref', 'entropy', 'truncated'].includes(k)) {
      throw new InputError(`${cf}.${k.slice(0, 40)}`, 'unknown key; allowed: logp, logp_old, logp_ref, entropy, truncated')
    }
  }
  const logp = finiteNumbers(c.logp, `${cf}.logp`, { max: 0, minLength: 1 })
  if (logp.length > config.max_completion_length) {
    throw new InputError(`${cf}.logp`, `has ${logp.length} tokens, more than max_completion_length = ${config.max_completion_length}`)
  }
  const same = (k: 'logp_old' | 'logp_ref' | 'entropy') => {
    if (c[k] === undefined) return undefined
    const v = k === 'entropy' ? finiteNumbers(c[k], `${cf}.${k}`, { min: 0 }) : finiteNumbers(c[k], `${cf}.${k}`, { max: 0 })
    if (v.length !== logp.length) throw new InputError(`${cf}.${k}`, `has ${v.length} values, logp has ${logp.length}`)
    return v
  }
  if (c.truncated !== undefined && typeof c.truncated !== 'boolean') throw new InputError(`${cf}.truncated`, 'allowed: true, false')
  return { logp, logp_old: same('logp_old'), logp_ref: same('logp_ref'), entropy: same('entropy'), truncated: c.truncated as boolean | undefined }
}

/** Compute the worksheet on a backend as one TRL _compute_loss call over all completions
 *  (one microbatch, no accumulation): advantages, then the loss; one readback per output tensor. */
export async function computeWorksheet(be: Backend, input: ParsedWorksheetInput): Promise<WorksheetOutput> {
  const { config } = input
  const G = input.groups[0].completions.length
  const K = input.groups[0].rewards_per_func[0].length
  const numGroups = input.groups.length
  const completions = input.groups.flatMap((g) => g.completions)
  const N = completions.length
  const T = Math.max(...completions.map((c) => c.logp.length))
  const fill = (pick: (c: WorksheetCompletion, t: number) => number) => {
    const a = new Float32Array(N * T)
    completions.forEach((c, i) => { for (let t = 0; t < c.logp.length; t++) a[i * T + t] = pick(c, t) })
    return a
  }
  const masked = (c: WorksheetCompletion) => config.mask_truncated_completions && c.truncated === true
  const counts = completions.map((c) => (masked(c) ? 0 : c.logp.length))
  const weights = sequenceWeights(config.loss_type, counts, { maxCompletionLength: config.max_completion_length })
  const rewardWeights = config.reward_weights ?? Array.from({ length: K }, () => 1)
  const perFunc = input.groups.flatMap((g) => g.rewards_per_func)
  const rewards = weightedRewards(input)

  // ---- the device's part: advantages, then the loss ----
  const made: Tensor[] = []
  const t = (n: number, data?: ArrayLike<number>): Tensor => {
    const x = whole(be.createBuffer(n, 'f32', 'worksheet')); made.push(x)
    if (data) be.write(x, data); else be.fill(x, 0)
    return x
  }
  const advantages = t(N); const std = t(N); const zeroStd = t(numGroups)
  be.advantages({ rewards: t(N, rewards), advantages, std, zeroStdGroups: zeroStd, numGroups, G, scale: config.scale_rewards,
    aggregation: config.multi_objective_aggregation, rewardsPerFunc: t(N * K, perFunc.flat()), rewardWeights: t(K, rewardWeights), K })
  const dlogp = t(N * T); const dentropy = t(N * T); const tokenTerms = t(3 * N * T); const stats = t(GRPO_STATS)
  be.grpoLoss({
    logp: t(N * T, fill((c, i) => c.logp[i])), oldLogp: t(N * T, fill((c, i) => (c.logp_old ?? c.logp)[i])),
    refLogp: t(N * T, fill((c, i) => (c.logp_ref ?? c.logp)[i])), entropy: t(N * T, fill((c, i) => c.entropy?.[i] ?? 0)),
    mask: t(N * T, fill((c) => (masked(c) ? 0 : 1))), advantages, weights: t(N, weights), dlogp, dentropy, tokenTerms, stats,
    N, T, epsilonLow: config.epsilon, epsilonHigh: config.epsilon_high, beta: config.beta,
    objective: grpoObjective(config, 1),
  })
  const adv = Array.from(await be.read(advantages))
  const stdv = Array.from(await be.read(std))
  const terms = await be.read(tokenTerms)
  const grads = await be.read(dlogp)
  const entropyGrads = config.entropy_coef !== 0 ? await be.read(dentropy) : null
  const st = await be.read(stats)
  made.forEach((x) => be.destroyBuffer(x.buffer))

  const n = N * T
  return {
    config,
    advantages: adv,
    loss: st[GrpoStat.loss],
    completions: completions.map((c, i) => {
      const L = c.logp.length
      const at = (k: number) => Array.from(terms.slice(k * n + i * T, k * n + i * T + L))
      const codes = at(2)
      const logRatios = c.logp.map((v, j) => v - (c.logp_old ?? c.logp)[j])
      const sequenceRatio = Math.exp(masked(c) ? 0 : logRatios.reduce((a, b) => a + b, 0) / L)
      return {
        ratio: logRatios.map((x) => (config.importance_sampling_level === 'sequence' ? sequenceRatio : Math.exp(x))),
        objective: at(0), kl: at(1),
        clipped: codes.map((x) => x !== 0),
        clip: codes.map((x) => (x < 0 ? 'low' : x > 0 ? 'high' : null)),
        grad: Array.from(grads.slice(i * T, i * T + L)),
        ...(entropyGrads ? { grad_entropy: Array.from(entropyGrads.slice(i * T, i * T + L)) } : {}),
      }
    }),
    metrics: worksheetMetrics(config, st, rewards, stdv),
  }
}

/** Each completion's reward: Σ_k w_k · r_k over its reward functions (TRL's `rewards`). */
export function weightedRewards(input: ParsedWorksheetInput): number[] {
  const w = input.config.reward_weights
  return input.groups.flatMap((g) => g.rewards_per_func).map((r) => r.reduce((s, x, k) => s + (w ? w[k] : 1) * x, 0))
}

/** TRL's metrics of one _compute_loss call and of the rewards it was given. */
function worksheetMetrics(config: WorksheetConfig, st: ArrayLike<number>, rewards: number[], std: number[]): Record<string, number> {
  const N = rewards.length
  const mean = rewards.reduce((a, b) => a + b, 0) / N
  const tokens = Math.max(1, st[GrpoStat.count])
  const clipCount = Math.max(1, st[GrpoStat.clipCount])
  const finite = (x: number) => (Math.abs(x) >= 1e38 ? NaN : x) // the kernel's empty min / max
  const m: Record<string, number> = {
    reward: mean,
    reward_std: Math.sqrt(rewards.reduce((s, r) => s + (r - mean) ** 2, 0) / (N - 1)),
    frac_reward_zero_std: std.filter((s) => s <= 1e-8).length / N,
  }
  if (config.beta !== 0) m.kl = st[GrpoStat.kl] / tokens
  m.entropy = st[GrpoStat.entropy] / tokens
  if (objectiveKind(config.loss_type) === 'clip') { // TRL logs clip_ratio/* for the clip family
    m['clip_ratio/low_mean'] = st[GrpoStat.clipLow] / clipCount
    m['clip_ratio/high_mean'] = st[GrpoStat.clipHigh] / clipCount
    m['clip_ratio/region_mean'] = st[GrpoStat.clipRegion] / clipCount
    m['clip_ratio/low_min'] = finite(st[GrpoStat.clipLowMin])
    m['clip_ratio/high_max'] = finite(st[GrpoStat.clipHighMax])
  }
  if (config.loss_type === 'cispo') m.cispo_clip_ratio = st[GrpoStat.cispoClip] / clipCount
  if (config.loss_type === 'vespo') m['vespo/phi_seq_mean'] = st[GrpoStat.phiSum] / Math.max(1, st[GrpoStat.sequences])
  if (config.entropy_coef !== 0) {
    m.policy_loss = st[GrpoStat.policyLoss]
    m.entropy_coef = config.entropy_coef
  }
  return m
}
