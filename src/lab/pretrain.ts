// Pretraining a task's base model: next-token training on the task's pretraining text, one
// document per row (prompt + completion + end token, starting at position 0 as prompts do in
// GRPO), deterministic from the seed. Used by `grpo-lab pretrain` and the lab's
// "Pretrain base model" action; the same code in Node and in the worker.

import type { Backend } from '../engine/backend'
import { GPT } from '../model/gpt'
import { AdamW } from '../model/optimizer'
import { CharTokenizer } from '../model/tokenizer'
import { documentBatch, nextTokenStep, type TokenBatch } from '../model/train'
import { withFormatNoise } from '../tasks/answer'
import type { Task } from '../tasks/types'

export interface PretrainOptions {
  seed: number
  steps: number
  batchSize: number
  nLayer: number
  nHead: number
  nEmbd: number
  blockSize: number
  learningRate: number
  /** cosine decay to this fraction of the learning rate by the last step */
  minLrFraction: number
  warmupSteps: number
  weightDecay: number
  /** share of documents whose format is broken (FORMAT_BREAKS): a base with an unreliable format; 0 = none */
  formatNoise?: number
}

export const DEFAULT_PRETRAIN: PretrainOptions = {
  seed: 1, steps: 1500, batchSize: 32, nLayer: 2, nHead: 4, nEmbd: 64, blockSize: 128,
  learningRate: 3e-3, minLrFraction: 0.1, warmupSteps: 50, weightDecay: 0.01,
}

export interface PretrainProgress {
  step: number
  steps: number
  loss: number
}

/** The learning rate at `step` (0-based): linear warmup, then cosine decay. */
export function pretrainLr(o: PretrainOptions, step: number): number {
  if (step < o.warmupSteps) return o.learningRate * (step + 1) / o.warmupSteps
  const p = (step - o.warmupSteps) / Math.max(1, o.steps - o.warmupSteps)
  const min = o.learningRate * o.minLrFraction
  return min + (o.learningRate - min) * 0.5 * (1 + Math.cos(Math.PI * p))
}

/** Batch `step`: documents step·B … step·B + B − 1 of the task's pretraining text. */
export function pretrainBatch(task: Task, tokenizer: CharTokenizer, o: PretrainOptions, step: number): TokenBatch {
  const docs = Array.from({ length: o.batchSize }, (_, b) => {
    const index = step * o.batchSize + b
    return withFormatNoise(task.pretrainingText(o.seed, index), o.seed, index, o.formatNoise ?? 0)
  })
  return documentBatch(tokenizer, docs, o.blockSize, false)
}

export async function pretrain(backend: Backend, task: Task, o: PretrainOptions,
  onProgress?: (p: PretrainProgress) => void | Promise<void>): Promise<{ model: GPT; tokenizer: CharTokenizer; finalLoss: number }> {
  const tokenizer = new CharTokenizer(task.alphabet)
  const model = new GPT(backend, { vocabSize: tokenizer.vocabSize, blockSize: o.blockSize, nLayer: o.nLayer, nHead: o.nHead, nEmbd: o.nEmbd })
  model.initialize(o.seed)
  const opt = new AdamW(model, { learningRate: o.learningRate, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: o.weightDecay, maxGradNorm: 1 })
  const recent: number[] = []
  for (let s = 0; s < o.steps; s++) {
    const loss = await nextTokenStep(model, opt, pretrainBatch(task, tokenizer, o, s), pretrainLr(o, s))
    recent.push(loss)
    if (recent.length > 20) recent.shift()
    await onProgress?.({ step: s + 1, steps: o.steps, loss })
  }
  opt.destroy()
  return { model, tokenizer, finalLoss: recent.reduce((a, b) => a + b, 0) / recent.length }
}
