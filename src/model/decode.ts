// Incremental decoding with a KV cache, sampling on the device. A batch of N sequences advances
// one position at a time inside the fused decode kernel (shaders/decode.wgsl): the whole model
// and the sampler for many positions per dispatch, no readback. Prompt positions go through the
// same path (the sampler leaves them untouched), so prompts of different lengths share one loop.
// The host reads the token matrix back once, at the end.

import type { Buffer, Tensor } from '../engine/backend'
import { DECODE_GLOBAL_PARAMS, DECODE_LAYER_PARAMS, decodeScratchLayout, whole } from '../engine/backend'
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

/** Per sequence and position, the multiply-adds one decode dispatch may take at most (a few ms on a GPU). */
const MAX_MACS_PER_DISPATCH = 2e7

/** Each parameter's offset in the flat buffer, in the order shaders/decode.wgsl reads them. */
export function decodeParamOffsets(model: GPT): number[] {
  const at = (name: string) => model.layout.byName.get(name)!.offset
  const out = ['wte', 'wpe', 'ln_f.weight', 'ln_f.bias', 'lm_head.weight'].map(at)
  for (let l = 0; l < model.config.nLayer; l++) {
    const w = layerNames(l)
    out.push(...[w.ln1w, w.ln1b, w.qkvw, w.qkvb, w.projw, w.projb, w.ln2w, w.ln2b, w.fcw, w.fcb, w.fcprojw, w.fcprojb].map(at))
  }
  if (out.length !== DECODE_GLOBAL_PARAMS + DECODE_LAYER_PARAMS * model.config.nLayer) throw new Error('decode: parameter list out of step with the kernel')
  return out
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

  const kCache = t(L * N * C * maxLen, 'decode.k_cache'); const vCache = t(L * N * C * maxLen, 'decode.v_cache')
  const scratch = t(decodeScratchLayout(N, C, V, NH, maxLen).total, 'decode.activations')
  const offsetList = decodeParamOffsets(model)
  const offsets = t(offsetList.length, 'decode.param_offsets', 'u32')
  be.write(offsets, offsetList)

  // positions per dispatch: all of them for tiny models; fewer for big ones, so that no single
  // dispatch runs long enough to trip a GPU watchdog (~12·L·C² multiply-adds per position)
  const chunk = Math.max(1, Math.floor(MAX_MACS_PER_DISPATCH / (12 * L * C * C + C * V)))
  for (let pos = 0; pos < maxLen - 1; pos += chunk) {
    be.decodePositions({
      tokens, params: model.params, offsets, offsetList, kCache, vCache, scratch, promptLens, done,
      N, V, C, NH, L, maxLen, posBegin: pos, posEnd: Math.min(maxLen - 1, pos + chunk), maxNew: o.maxNewTokens,
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
