// Per-token log-probabilities of given completions under a model: what the worksheet needs to
// fill GRPO's formulas with a live group's numbers. One forward pass, one readback.
import type { GPT } from '../model/gpt'
import { EOS_ID } from '../model/tokenizer'
import type { CharTokenizer } from '../model/tokenizer'

/** At the run's sampling temperature: the log-probs training divides its logits for (as TRL). */
export async function completionLogprobs(model: GPT, tokenizer: CharTokenizer, prompt: string, completions: string[],
  temperature: number): Promise<number[][]> {
  const be = model.backend
  const p = tokenizer.encode(prompt)
  // the completion's tokens, cut to the context (the trace's text never exceeds it in training)
  const seqs = completions.map((c) => p.concat(tokenizer.encode(c)).slice(0, model.config.blockSize))
  const B = seqs.length
  const T = Math.max(2, ...seqs.map((s) => s.length)) - 1
  const a = model.activations(B, T)
  const inputs = new Uint32Array(B * T).fill(EOS_ID)
  const targets = new Uint32Array(B * T).fill(EOS_ID)
  seqs.forEach((s, b) => { for (let t = 0; t < s.length - 1; t++) { inputs[b * T + t] = s[t]; targets[b * T + t] = s[t + 1] } })
  be.write(a.tokens, inputs)
  be.write(a.targets, targets)
  model.forward(B, T, undefined, { temperature })
  const logp = await be.read(a.logp)
  // position t predicts token t + 1: the completion's tokens are predicted from p − 1 on
  return seqs.map((s, b) => Array.from(logp.slice(b * T + p.length - 1, b * T + s.length - 1)))
}
