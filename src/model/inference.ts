// Inference from prompt text, for `grpo-lab generate` and `grpo-lab logits` (and the checks that
// compare them with Hugging Face runtimes): completions through the lab's decode kernel, and the
// full-vocabulary logits of one forward pass.

import { generate } from './decode'
import type { GPT } from './gpt'
import { type CharTokenizer, EOS_ID } from './tokenizer'

export interface TextCompletion {
  prompt: string
  text: string
  /** the new tokens only, the end token included when it was produced */
  token_ids: number[]
  stopped: 'eos' | 'length'
}

export interface TextGenerateOptions {
  /** 0 = greedy */
  temperature: number
  seed: number
  /** default: the context left after the shortest prompt (each stops at the context's end) */
  maxNewTokens?: number
  /** completions per prompt */
  n: number
}

export async function generateText(model: GPT, tokenizer: CharTokenizer, prompts: string[], o: TextGenerateOptions): Promise<TextCompletion[]> {
  const encoded = prompts.map((p) => tokenizer.encode(p))
  const shortest = Math.min(...encoded.map((p) => p.length))
  const maxNewTokens = o.maxNewTokens ?? model.config.blockSize - shortest
  const rows = encoded.flatMap((p) => Array.from({ length: o.n }, () => p))
  const g = await generate(model, { prompts: rows, maxNewTokens, temperature: o.temperature, seed: o.seed })
  return g.completions.map((ids, i) => ({
    prompt: prompts[Math.floor(i / o.n)],
    text: tokenizer.decode(ids),
    token_ids: ids,
    stopped: ids[ids.length - 1] === EOS_ID ? 'eos' : 'length',
  }))
}

/** Logits [T, vocab] of one sequence, every position (row t predicts token t + 1). */
export async function sequenceLogits(model: GPT, tokens: number[]): Promise<Float32Array> {
  const T = tokens.length
  const a = model.activations(1, T)
  model.backend.write(a.tokens, tokens)
  model.backend.write(a.targets, new Array(T).fill(0))
  const out = model.forward(1, T)
  return Float32Array.from(await model.backend.read(out.logits))
}
