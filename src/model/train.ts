// Next-token (language-model) training: the pretraining of base models and the engine's
// learning test. Loss = −mean over counted positions of log p(target). One upload of the
// batch, one submission, one readback (the per-token log-probs, for the loss) per step.
// Also the supervised pass of a GRPO run's cold start (completion tokens only).
import type { GPT } from './gpt'
import type { AdamW } from './optimizer'
import { type CharTokenizer, EOS_ID } from './tokenizer'

export interface TokenBatch {
  B: number
  T: number
  /** [B·T] input ids */
  inputs: ArrayLike<number>
  /** [B·T] next-token ids */
  targets: ArrayLike<number>
  /** [B·T] 1 where the position counts towards the loss, 0 for padding; all count if absent */
  mask?: ArrayLike<number>
}

export async function nextTokenStep(model: GPT, opt: AdamW, batch: TokenBatch, lr?: number): Promise<number> {
  const { B, T } = batch
  const n = B * T
  const acts = model.activations(B, T)
  const be = model.backend
  const mask = batch.mask ?? new Float32Array(n).fill(1)
  let count = 0
  for (let i = 0; i < n; i++) count += mask[i]
  if (count === 0) throw new RangeError('nextTokenStep: the batch has no position to learn from')
  const dlogp = new Float32Array(n)
  for (let i = 0; i < n; i++) dlogp[i] = -mask[i] / count
  be.write(acts.tokens, batch.inputs)
  be.write(acts.targets, batch.targets)
  be.write(acts.dlogp, dlogp)
  model.forward(B, T)
  model.backward()
  opt.update(lr)
  const logp = await be.read(acts.logp)
  let loss = 0
  for (let i = 0; i < n; i++) loss -= mask[i] * logp[i]
  return loss / count
}

/** Mean next-token loss of a batch without training (evaluation). */
export async function nextTokenLoss(model: GPT, batch: TokenBatch): Promise<number> {
  const { B, T } = batch
  const n = B * T
  const acts = model.activations(B, T)
  model.backend.write(acts.tokens, batch.inputs)
  model.backend.write(acts.targets, batch.targets)
  model.forward(B, T)
  const logp = await model.backend.read(acts.logp)
  const mask = batch.mask ?? new Float32Array(n).fill(1)
  let loss = 0; let count = 0
  for (let i = 0; i < n; i++) { loss -= mask[i] * logp[i]; count += mask[i] }
  return loss / count
}

/** One document per row (prompt + completion + end token, from position 0). The rows are as long
 *  as the batch's longest document, rounded up to 16 (fewer distinct shapes), so short documents
 *  do not pay for the whole context. `completionOnly` learns the completion's tokens alone (a
 *  supervised pass on answers, as a cold start is), else every next token. */
export function documentBatch(tokenizer: CharTokenizer, documents: { prompt: string; completion: string }[],
  blockSize: number, completionOnly: boolean): TokenBatch {
  const B = documents.length
  const docs = documents.map((doc) => ({
    ids: tokenizer.encode(doc.prompt + doc.completion).concat([EOS_ID]),
    firstTarget: completionOnly ? doc.prompt.length : 1,
  }))
  const longest = Math.max(...docs.map((d) => d.ids.length - 1))
  if (longest > blockSize - 1) throw new Error(`a document of ${longest + 1} tokens does not fit the context of ${blockSize}`)
  const T = Math.min(blockSize - 1, Math.ceil(longest / 16) * 16)
  const inputs = new Uint32Array(B * T).fill(EOS_ID)
  const targets = new Uint32Array(B * T).fill(EOS_ID)
  const mask = new Float32Array(B * T)
  docs.forEach(({ ids, firstTarget }, b) => {
    for (let t = 0; t < ids.length - 1; t++) {
      inputs[b * T + t] = ids[t]
      targets[b * T + t] = ids[t + 1]
      // position t predicts token t + 1
      mask[b * T + t] = t + 1 >= firstTarget ? 1 : 0
    }
  })
  return { B, T, inputs, targets, mask }
}
