// Incremental decoding with a KV cache, sampling on the device. A batch of N sequences advances
// one position per iteration; each iteration is ~(4 + 10·nLayer) dispatches and no readback.
// Prompt positions are fed through the same path (the sampler leaves them untouched), so prompts
// of different lengths share one loop. The host reads the token matrix back once, at the end.

import type { Buffer, Tensor } from '../engine/backend'
import { whole } from '../engine/backend'
import { Stream } from '../engine/rng'
import type { GPT } from './gpt'
import { layerNames } from './params'
import { EOS_ID } from './tokenizer'

export interface GenerateOptions {
  /** token ids of each prompt, at least one token each */
  prompts: number[][]
  /** tokens to sample after each prompt, at most */
  maxNewTokens: number
  /** 0 = greedy */
  temperature: number
  /** 0 = no top-k filter */
  topK?: number
  seed: number
  /** separates independent draws with the same seed (e.g. one per training step) */
  stream?: number
  eosId?: number
}

export interface Generation {
  /** per sequence, the sampled tokens after the prompt, up to and including the end token */
  completions: number[][]
  /** per sequence, true when it hit maxNewTokens without sampling the end token */
  truncated: boolean[]
  /** the raw [N, maxLen] token matrix */
  tokens: Uint32Array
  maxLen: number
}

export async function generate(model: GPT, o: GenerateOptions): Promise<Generation> {
  const be = model.backend
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V, blockSize } = model.config
  const N = o.prompts.length
  const eosId = o.eosId ?? EOS_ID
  if (N === 0) throw new RangeError('generate: no prompts')
  const longest = Math.max(...o.prompts.map((p) => p.length))
  if (o.prompts.some((p) => p.length === 0)) throw new RangeError('generate: every prompt needs at least one token')
  if (longest >= blockSize) throw new RangeError(`generate: a prompt of ${longest} tokens leaves no room in the context of ${blockSize}`)
  const maxLen = Math.min(blockSize, longest + o.maxNewTokens)

  const buffers: Buffer[] = []
  const t = (n: number, label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor => {
    const b = be.createBuffer(n, dtype, label); buffers.push(b); return whole(b)
  }
  const tokens = t(N * maxLen, 'decode.tokens', 'u32')
  const promptLens = t(N, 'decode.prompt_lens', 'u32')
  const done = t(N, 'decode.done', 'u32')
  const host = new Uint32Array(N * maxLen)
  o.prompts.forEach((p, n) => p.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`generate: prompt ${n} has token id ${id}, allowed 0..${V - 1}`)
    host[n * maxLen + i] = id
  }))
  be.write(tokens, host)
  be.write(promptLens, o.prompts.map((p) => p.length))
  be.fill(done, 0)

  const x = t(N * C, 'decode.x'); const ln = t(N * C, 'decode.ln')
  const mean = t(N, 'decode.mean'); const rstd = t(N, 'decode.rstd')
  const qkv = t(N * 3 * C, 'decode.qkv'); const atty = t(N * C, 'decode.atty')
  const proj = t(N * C, 'decode.proj'); const res2 = t(N * C, 'decode.res2')
  const fch = t(N * 4 * C, 'decode.fch'); const fchGelu = t(N * 4 * C, 'decode.fch_gelu')
  const logits = t(N * V, 'decode.logits')
  const kCache: Tensor[] = []; const vCache: Tensor[] = []
  for (let l = 0; l < L; l++) { kCache.push(t(N * C * maxLen, `k_cache.${l}`)); vCache.push(t(N * C * maxLen, `v_cache.${l}`)) }

  const P = (name: string) => model.param(name)
  for (let pos = 0; pos < maxLen - 1; pos++) {
    be.embeddingForwardAt(x, tokens, P('wte'), P('wpe'), N, maxLen, pos, C)
    for (let l = 0; l < L; l++) {
      const w = layerNames(l)
      be.layernormForward(ln, mean, rstd, x, P(w.ln1w), P(w.ln1b), N, C)
      be.matmul({ out: qkv, a: ln, b: P(w.qkvw), bias: P(w.qkvb), M: N, N: 3 * C, K: C, transB: true })
      be.attentionDecode(atty, qkv, kCache[l], vCache[l], N, C, NH, maxLen, pos)
      be.matmul({ out: proj, a: atty, b: P(w.projw), bias: P(w.projb), M: N, N: C, K: C, transB: true })
      be.add(res2, x, proj)
      be.layernormForward(ln, mean, rstd, res2, P(w.ln2w), P(w.ln2b), N, C)
      be.matmul({ out: fch, a: ln, b: P(w.fcw), bias: P(w.fcb), M: N, N: 4 * C, K: C, transB: true })
      be.geluForward(fchGelu, fch)
      be.matmul({ out: proj, a: fchGelu, b: P(w.fcprojw), bias: P(w.fcprojb), M: N, N: C, K: 4 * C, transB: true })
      be.add(x, res2, proj)
    }
    be.layernormForward(ln, mean, rstd, x, P('ln_f.weight'), P('ln_f.bias'), N, C)
    be.matmul({ out: logits, a: ln, b: P('lm_head.weight'), M: N, N: V, K: C, transB: true })
    be.sample({
      tokens, logits, promptLens, done, N, V, maxLen, pos, maxNew: o.maxNewTokens,
      temperature: o.temperature, topK: o.topK ?? 0, eosId, seed: o.seed, stream: o.stream ?? Stream.sample,
    })
  }
  const out = (await be.read(tokens)) as Uint32Array
  buffers.forEach((b) => be.destroyBuffer(b))

  const completions: number[][] = []
  const truncated: boolean[] = []
  o.prompts.forEach((p, n) => {
    const seq: number[] = []
    const end = Math.min(maxLen, p.length + o.maxNewTokens)
    let ended = false
    for (let i = p.length; i < end; i++) {
      const id = out[n * maxLen + i]
      seq.push(id)
      if (id === eosId) { ended = true; break }
    }
    completions.push(seq)
    truncated.push(!ended)
  })
  return { completions, truncated, tokens: out, maxLen }
}
