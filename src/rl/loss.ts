// How the GRPO token losses are aggregated into one number, per TRL's loss_type. The kernel
// (shaders/grpo_loss.wgsl) multiplies each token's loss by its sequence's weight; the weights
// carry the whole difference between the loss types:
//   grpo     mean over sequences of each sequence's token mean        w_i = 1 / (N · |o_i|)
//   bnpo     token sum / token count of this batch                    w_i = 1 / Σ|o_j|
//   dr_grpo  token sum / (N · max_completion_length)                  w_i = 1 / (N · L)
//   dapo     token sum / token count of the whole accumulated batch   w_i = 1 / num_items_in_batch
// grpo, bnpo and dr_grpo are also divided by gradient_accumulation_steps, as TRL does.

export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo' | 'luspo' | 'cispo' | 'sapo' | 'vespo'
export const LOSS_TYPES: readonly LossType[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo', 'luspo', 'cispo', 'sapo', 'vespo']
export type ImportanceSamplingLevel = 'token' | 'sequence'
export const IMPORTANCE_SAMPLING_LEVELS: readonly ImportanceSamplingLevel[] = ['token', 'sequence']

export interface AggregationOptions {
  maxCompletionLength: number
  gradientAccumulationSteps?: number
  /** dapo: masked tokens over all microbatches of this optimizer step (default: this batch's) */
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
      case 'grpo': w[i] = 1 / (N * Math.max(1, tokenCounts[i]) * ga); break
      case 'bnpo': w[i] = 1 / (Math.max(1, total) * ga); break
      case 'dr_grpo': w[i] = 1 / (N * o.maxCompletionLength * ga); break
      case 'dapo': w[i] = 1 / Math.max(1, o.numItemsInBatch ?? total); break
    }
  }
  return w
}
