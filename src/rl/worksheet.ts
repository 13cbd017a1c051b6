// One GRPO loss computed from given numbers, for teaching and for checking: rewards →
// advantages → ratios → clipped objective → KL → the aggregated loss of the chosen loss_type.
// Runs on the same kernels as training (or their CPU twins); `grpo-lab worksheet` and the
// lab's worksheet panel both call it.

import type { Backend, ScaleRewards, Tensor } from '../engine/backend'
import { GRPO_STATS, GrpoStat, SCALE_REWARDS, whole } from '../engine/backend'
import { LOSS_TYPES, type LossType, sequenceWeights } from './loss'

export interface WorksheetConfig {
  loss_type: LossType
  scale_rewards: ScaleRewards
  epsilon: number
  epsilon_high: number
  beta: number
  max_completion_length: number
  mask_truncated_completions: boolean
}

export interface WorksheetCompletion {
  logp: number[]
  logp_old?: number[]
  logp_ref?: number[]
  truncated?: boolean
}

export interface WorksheetInput {
  config: Partial<WorksheetConfig>
  groups: { rewards: number[]; completions: WorksheetCompletion[] }[]
}

export interface WorksheetOutput {
  config: WorksheetConfig
  advantages: number[]
  loss: number
  completions: {
    ratio: number[]; objective: number[]; kl: number[]; clipped: boolean[]; clip: ('low' | 'high' | null)[]
    /** dloss/dlogp per token: what the backward pass starts from */
    grad: number[]
  }[]
  metrics: {
    reward: number
    reward_std: number
    kl: number
    'clip_ratio/low_mean': number
    'clip_ratio/high_mean': number
    'clip_ratio/region_mean': number
    frac_reward_zero_std: number
  }
}

/** TRL's GRPOConfig defaults for the keys the worksheet takes. */
export const WORKSHEET_DEFAULTS: WorksheetConfig = {
  loss_type: 'dapo', scale_rewards: 'group', epsilon: 0.2, epsilon_high: 0.2, beta: 0.0,
  max_completion_length: 256, mask_truncated_completions: false,
}

export class InputError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message}`) }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
/** A value as it reads in a message: cut short, since it may be megabytes of a pasted file. */
const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60)

function finiteNumbers(v: unknown, field: string, opts: { max?: number; minLength?: number } = {}): number[] {
  if (!Array.isArray(v)) throw new InputError(field, `expected an array of numbers, got ${shown(v)}`)
  if (v.length < (opts.minLength ?? 0)) throw new InputError(field, `needs at least ${opts.minLength} values, got ${v.length}`)
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`${field}[${i}]`, `expected a finite number, got ${shown(x)}`)
    if (opts.max !== undefined && x > opts.max) throw new InputError(`${field}[${i}]`, `a log-probability must be ≤ 0, got ${x}`)
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
  const epsilon = number(c.epsilon, 'config.epsilon', 0, 1, WORKSHEET_DEFAULTS.epsilon)
  const mtc = c.mask_truncated_completions
  if (mtc !== undefined && typeof mtc !== 'boolean') throw new InputError('config.mask_truncated_completions', `got ${shown(mtc)}; allowed: true, false`)
  return {
    loss_type: oneOf(c.loss_type, 'config.loss_type', LOSS_TYPES, WORKSHEET_DEFAULTS.loss_type),
    scale_rewards: oneOf(c.scale_rewards, 'config.scale_rewards', SCALE_REWARDS, WORKSHEET_DEFAULTS.scale_rewards),
    epsilon,
    epsilon_high: number(c.epsilon_high, 'config.epsilon_high', 0, 10, epsilon), // TRL: defaults to epsilon
    beta: number(c.beta, 'config.beta', 0, 100, WORKSHEET_DEFAULTS.beta),
    max_completion_length: number(c.max_completion_length, 'config.max_completion_length', 1, 100000, WORKSHEET_DEFAULTS.max_completion_length, true),
    mask_truncated_completions: mtc ?? false,
  }
}

export function parseWorksheetInput(raw: unknown): WorksheetInput & { config: WorksheetConfig } {
  if (!isObject(raw)) throw new InputError('input', 'expected a JSON object with "config" and "groups"')
  for (const k of Object.keys(raw)) if (k !== 'config' && k !== 'groups') throw new InputError(k.slice(0, 40), 'unknown key; allowed: config, groups')
  const config = parseWorksheetConfig(raw.config)
  if (!Array.isArray(raw.groups) || raw.groups.length === 0) throw new InputError('groups', 'expected a non-empty array of groups')
  let G = -1
  const groups = raw.groups.map((g, gi) => {
    const f = `groups[${gi}]`
    if (!isObject(g)) throw new InputError(f, 'expected an object with "rewards" and "completions"')
    const rewards = finiteNumbers(g.rewards, `${f}.rewards`, { minLength: 2 })
    if (G === -1) G = rewards.length
    if (rewards.length !== G) throw new InputError(`${f}.rewards`, `has ${rewards.length} values; every group needs the same size (${G})`)
    if (!Array.isArray(g.completions) || g.completions.length !== rewards.length) {
      throw new InputError(`${f}.completions`, `expected ${rewards.length} completions (one per reward)`)
    }
    const completions = g.completions.map((c, ci) => {
      const cf = `${f}.completions[${ci}]`
      if (!isObject(c)) throw new InputError(cf, 'expected an object with "logp"')
      const logp = finiteNumbers(c.logp, `${cf}.logp`, { max: 0, minLength: 1 })
      if (logp.length > config.max_completion_length) {
        throw new InputError(`${cf}.logp`, `has ${logp.length} tokens, more than max_completion_length = ${config.max_completion_length}`)
      }
      const same = (k: 'logp_old' | 'logp_ref') => {
        if (c[k] === undefined) return undefined
        const v = finiteNumbers(c[k], `${cf}.${k}`, { max: 0 })
        if (v.length !== logp.length) throw new InputError(`${cf}.${k}`, `has ${v.length} values, logp has ${logp.length}`)
        return v
      }
      if (c.truncated !== undefined && typeof c.truncated !== 'boolean') throw new InputError(`${cf}.truncated`, 'allowed: true, false')
      return { logp, logp_old: same('logp_old'), logp_ref: same('logp_ref'), truncated: c.truncated as boolean | undefined }
    })
    return { rewards, completions }
  })
  return { config, groups }
}

/** Compute the worksheet on a backend: 2 + 2 dispatches, one readback per output tensor. */
export async function computeWorksheet(be: Backend, input: WorksheetInput & { config: WorksheetConfig }): Promise<WorksheetOutput> {
  const { config } = input
  const G = input.groups[0].rewards.length
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
  const mask = fill((c) => (masked(c) ? 0 : 1))
  const counts = completions.map((c) => (masked(c) ? 0 : c.logp.length))
  const weights = sequenceWeights(config.loss_type, counts, { maxCompletionLength: config.max_completion_length })

  const made: Tensor[] = []
  const t = (n: number, data?: ArrayLike<number>): Tensor => {
    const x = whole(be.createBuffer(n, 'f32', 'worksheet')); made.push(x)
    if (data) be.write(x, data); else be.fill(x, 0)
    return x
  }
  const logp = t(N * T, fill((c, i) => c.logp[i]))
  const oldLogp = t(N * T, fill((c, i) => (c.logp_old ?? c.logp)[i]))
  const refLogp = t(N * T, fill((c, i) => (c.logp_ref ?? c.logp)[i]))
  const rewards = t(N, input.groups.flatMap((g) => g.rewards))
  const advantages = t(N); const std = t(N); const zeroStd = t(numGroups)
  const maskT = t(N * T, mask); const weightsT = t(N, weights); const entropy = t(N * T)
  const dlogp = t(N * T); const tokenTerms = t(3 * N * T); const stats = t(GRPO_STATS)

  be.advantages({ rewards, advantages, std, zeroStdGroups: zeroStd, numGroups, G, scale: config.scale_rewards })
  be.grpoLoss({ logp, oldLogp, refLogp, entropy, mask: maskT, advantages, weights: weightsT, dlogp, tokenTerms, stats,
    N, T, epsilonLow: config.epsilon, epsilonHigh: config.epsilon_high, beta: config.beta })
  const adv = Array.from(await be.read(advantages))
  const stdv = Array.from(await be.read(std))
  const terms = await be.read(tokenTerms)
  const grads = await be.read(dlogp)
  const st = await be.read(stats)
  made.forEach((x) => be.destroyBuffer(x.buffer))

  const n = N * T
  const count = Math.max(1, st[GrpoStat.count])
  const allRewards = input.groups.flatMap((g) => g.rewards)
  return {
    config,
    advantages: adv,
    loss: st[GrpoStat.loss],
    completions: completions.map((c, i) => {
      const L = c.logp.length
      const at = (k: number) => Array.from(terms.slice(k * n + i * T, k * n + i * T + L))
      const codes = at(2)
      return {
        ratio: c.logp.map((v, j) => Math.exp(v - (c.logp_old ?? c.logp)[j])),
        objective: at(0), kl: at(1),
        clipped: codes.map((x) => x !== 0),
        clip: codes.map((x) => (x < 0 ? 'low' : x > 0 ? 'high' : null)),
        grad: Array.from(grads.slice(i * T, i * T + L)),
      }
    }),
    metrics: {
      reward: allRewards.reduce((a, b) => a + b, 0) / N,
      reward_std: stdv.reduce((a, b) => a + b, 0) / N,
      kl: st[GrpoStat.kl] / count,
      'clip_ratio/low_mean': st[GrpoStat.clipLow] / count,
      'clip_ratio/high_mean': st[GrpoStat.clipHigh] / count,
      'clip_ratio/region_mean': st[GrpoStat.clipRegion] / count,
      frac_reward_zero_std: stdv.filter((s) => s <= 1e-8).length / N,
    },
  }
}
