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

import type { GrpoObjectiveKind } from '../engine/backend'

/** The kernel's objective for a loss type. */
export function objectiveKind(lossType: LossType): GrpoObjectiveKind {
  return lossType === 'cispo' || lossType === 'sapo' || lossType === 'vespo' ? lossType : 'clip'
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
