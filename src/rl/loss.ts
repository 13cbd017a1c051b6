// A loss_type is TRL's per-token objective plus how its token losses are aggregated into one
// number. The kernel (shaders/grpo_loss.wgsl) computes the objective (clip, cispo, sapo, vespo)
// and multiplies each token's loss by its sequence's weight; the weights are the aggregation:
//   grpo, sapo        mean over sequences of each sequence's token mean   w_i = 1 / (N · |o_i|)
//   bnpo              token sum / token count of this batch               w_i = 1 / Σ|o_j|
//   dr_grpo           token sum / (N · max_completion_length)             w_i = 1 / (N · L)
//   luspo             mean over sequences of each sequence's token sum    w_i = 1 / N
//   dapo, cispo, vespo  token sum / tokens per optimizer step             w_i = 1 / num_items_in_batch
// All but the num_items_in_batch ones are also divided by gradient_accumulation_steps, as TRL does.
// (TRL's num_items_in_batch is the whole generation batch's tokens; it rescales it to one
// optimizer step's share, so the trainer passes rollout tokens / optimizer steps per pass.)

export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo' | 'luspo' | 'cispo' | 'sapo' | 'vespo'
export const LOSS_TYPES: readonly LossType[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'luspo', 'cispo', 'sapo', 'vespo']
export type ImportanceSamplingLevel = 'token' | 'sequence'
export const IMPORTANCE_SAMPLING_LEVELS: readonly ImportanceSamplingLevel[] = ['token', 'sequence']

import type { GrpoObjective, GrpoObjectiveKind } from '../engine/backend'

/** The kernel's objective for a loss type. */
export function objectiveKind(lossType: LossType): GrpoObjectiveKind {
  return lossType === 'cispo' || lossType === 'sapo' || lossType === 'vespo' ? lossType : 'clip'
}

/** The GRPOConfig keys (TRL's names) that choose the loss kernel's objective: a run's
 *  configuration and the worksheet's both have them. */
export interface ObjectiveKeys {
  loss_type: LossType
  /** token: one ratio per token; sequence: GSPO, the exp of the sequence's mean log-ratio */
  importance_sampling_level: ImportanceSamplingLevel
  /** two-sided clipping: the unclipped ratio is capped at delta; 0 = off (TRL's None) */
  delta: number
  sapo_temperature_pos: number; sapo_temperature_neg: number
  vespo_k_pos: number; vespo_lambda_pos: number; vespo_k_neg: number; vespo_lambda_neg: number
  /** keep only the top ρ of completion tokens by entropy in the policy loss; 1 = all */
  top_entropy_quantile: number
  /** static entropy bonus: loss − entropy_coef · mean token entropy */
  entropy_coef: number
  /** the KL term times the importance ratio (TRL 1.13's default: true) */
  use_bias_correction_kl: boolean
}

/** The loss kernel's objective for TRL's keys, with the accumulation the entropy bonus divides by. */
export function grpoObjective(c: ObjectiveKeys, gradientAccumulationSteps: number): GrpoObjective {
  return {
    kind: objectiveKind(c.loss_type), sequenceLevel: c.importance_sampling_level === 'sequence', delta: c.delta,
    sapoTemperaturePos: c.sapo_temperature_pos, sapoTemperatureNeg: c.sapo_temperature_neg,
    vespoKPos: c.vespo_k_pos, vespoLambdaPos: c.vespo_lambda_pos, vespoKNeg: c.vespo_k_neg, vespoLambdaNeg: c.vespo_lambda_neg,
    topEntropyQuantile: c.top_entropy_quantile, entropyCoef: c.entropy_coef, gradientAccumulationSteps,
    klBiasCorrection: c.use_bias_correction_kl,
  }
}

export interface AggregationOptions {
  maxCompletionLength: number
  gradientAccumulationSteps?: number
  /** dapo, cispo, vespo: the tokens of one optimizer step, already clamped (default: this batch's, at least 1) */
  numItemsInBatch?: number
}

/** Per-sequence weights, from the number of counted (masked-in) tokens of each sequence. */
export function sequenceWeights(lossType: LossType, tokenCounts: readonly number[], o: AggregationOptions): Float32Array {
  const N = tokenCounts.length
  const ga = o.gradientAccumulationSteps ?? 1
  const total = tokenCounts.reduce((a, b) => a + b, 0)
  const w = new Float32Array(N)
  for (let i = 0; i < N; i++) {
    switch (lossType) {
      case 'grpo': case 'sapo': w[i] = 1 / (N * Math.max(1, tokenCounts[i]) * ga); break
      case 'bnpo': w[i] = 1 / (Math.max(1, total) * ga); break
      case 'dr_grpo': w[i] = 1 / (N * o.maxCompletionLength * ga); break
      case 'luspo': w[i] = 1 / (N * ga); break
      // TRL: max(1, generation-batch tokens) / optimizer steps per pass, which may be below 1
      case 'dapo': case 'cispo': case 'vespo': w[i] = 1 / (o.numItemsInBatch ?? Math.max(1, total)); break
    }
  }
  return w
}
