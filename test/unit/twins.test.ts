// The CPU twins of adamw, sample and decodePositions against references written here from the
// definitions, apart from the code under test (the kernel tests then hold WebGPU to the twins):
// AdamW as PyTorch documents it, sampling by its distribution (temperature-scaled softmax over
// the top k, estimated from many draws), and fused decoding by full forward passes.
import { describe, expect, it } from 'vitest'
import { decodeScratchLayout, view } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { decodeParamOffsets, generate } from '../../src/model/decode'
import { GPT } from '../../src/model/gpt'
import { expectClose, greedyByForward, randomArray, randomInts, upload, zeros } from '../helpers'

describe('adamw against PyTorch\'s AdamW with clip_grad_norm_', () => {
  /** torch.nn.utils.clip_grad_norm_, then torch.optim.AdamW's update, element by element in float64. */
  function reference(p: number[], g: number[], m: number[], v: number[], o: { lr: number; beta1: number; beta2: number; eps: number;
    weightDecay: number; maxGradNorm: number; decayEnd: number; step: number }) {
    const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0))
    const coef = o.maxGradNorm > 0 ? Math.min(1, o.maxGradNorm / (norm + 1e-6)) : 1
    p = [...p]; m = [...m]; v = [...v]
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * coef
      if (i < o.decayEnd) p[i] *= 1 - o.lr * o.weightDecay // decoupled decay first, on the old weight
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi
      const mHat = m[i] / (1 - o.beta1 ** o.step); const vHat = v[i] / (1 - o.beta2 ** o.step)
      p[i] -= o.lr * mHat / (Math.sqrt(vHat) + o.eps)
    }
    return { p, m, v, norm }
  }

  it.each([[0, 1], [0.05, 1], [0.05, 4], [10, 2]])('max_grad_norm %s, step %s', async (maxGradNorm, step) => {
    const n = 500
    const be = new CpuBackend('f64')
    const o = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm, decayEnd: 300, step }
    const init = { p: randomArray(n, 1), g: randomArray(n, 2, 0.01), m: randomArray(n, 3, 0.001), v: randomArray(n, 4, 0.0001).map(Math.abs) }
    const [params, grads, m, v] = [init.p, init.g, init.m, init.v].map((a) => upload(be, a))
    const gradNorm = zeros(be, 1)
    be.adamw({ params, grads, m, v, gradNorm, ...o })
    const want = reference(Array.from(init.p), Array.from(init.g), Array.from(init.m), Array.from(init.v), o)
    expectClose(await be.read(gradNorm), [want.norm], 1e-15, 1e-12, 'grad norm')
    expectClose(await be.read(m), want.m, 1e-15, 1e-12, 'm')
    expectClose(await be.read(v), want.v, 1e-15, 1e-12, 'v')
    expectClose(await be.read(params), want.p, 1e-15, 1e-12, 'params')
    if (maxGradNorm === 0.05) expect(want.norm).toBeGreaterThan(0.05) // the clipped cases really clip
  })
})

/** softmax(logits / T) over the k largest logits (all when k = 0): what one draw should follow. */
function samplingDistribution(logits: ArrayLike<number>, temperature: number, topK: number): number[] {
  const order = Array.from(logits, (_, v) => v).sort((a, b) => logits[b] - logits[a])
  const kept = new Set(topK > 0 ? order.slice(0, topK) : order)
  const w = Array.from(logits, (l, v) => (kept.has(v) ? Math.exp(l / temperature) : 0))
  const sum = w.reduce((a, b) => a + b, 0)
  return w.map((x) => x / sum)
}

/** Each token's share of the draws within 5 standard errors of its probability; tokens of probability 0 never drawn. */
function expectDrawnAs(draws: ArrayLike<number>, p: number[]): void {
  const counts = new Array(p.length).fill(0)
  for (let i = 0; i < draws.length; i++) counts[draws[i]]++
  p.forEach((pv, v) => {
    const share = counts[v] / draws.length
    if (pv === 0) expect(counts[v], `token ${v} lies outside the top k`).toBe(0)
    else expect(Math.abs(share - pv), `token ${v}: drawn ${share}, probability ${pv}`).toBeLessThan(5 * Math.sqrt(pv * (1 - pv) / draws.length) + 1e-12)
  })
}

const DRAWS = 20000

describe('sample: the tokens drawn follow softmax(logits / temperature) over the top k', () => {
  const row = [1.2, -0.3, 2.0, 0.4, 1.9, -1.5, 0.0]
  it.each([[1, 0], [0.5, 0], [0.7, 3], [2, 2], [1, 1]])('temperature %s, top-k %s', async (temperature, topK) => {
    const be = new CpuBackend('f32')
    const V = row.length; const maxLen = 2
    const tokens = zeros(be, DRAWS * maxLen, 'tokens', 'u32')
    be.sample({ tokens, logits: upload(be, Array.from({ length: DRAWS }, () => row).flat()), promptLens: upload(be, new Array(DRAWS).fill(1), 'u32'),
      done: zeros(be, DRAWS, 'done', 'u32'), N: DRAWS, V, maxLen, pos: 0, maxNew: 1, temperature, topK, eosId: V, seed: 5, stream: 1 })
    const out = await be.read(tokens)
    expectDrawnAs(Array.from({ length: DRAWS }, (_, n) => out[n * maxLen + 1]), samplingDistribution(row, temperature, topK))
  })

  it('temperature 0 takes the largest logit', async () => {
    const be = new CpuBackend('f32')
    const tokens = zeros(be, 8 * 2, 'tokens', 'u32')
    be.sample({ tokens, logits: upload(be, Array.from({ length: 8 }, () => row).flat()), promptLens: upload(be, new Array(8).fill(1), 'u32'),
      done: zeros(be, 8, 'done', 'u32'), N: 8, V: row.length, maxLen: 2, pos: 0, maxNew: 1, temperature: 0, topK: 0, eosId: row.length, seed: 5, stream: 1 })
    const out = await be.read(tokens)
    expect(Array.from({ length: 8 }, (_, n) => out[n * 2 + 1])).toEqual(new Array(8).fill(2))
  })
})

describe('decodePositions (the fused decode) against full forward passes', () => {
  const config = { vocabSize: 13, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }

  it('logits at every position of a teacher-forced sequence match the forward pass (float64)', async () => {
    const be = new CpuBackend('f64')
    const model = new GPT(be, config)
    model.initialize(3)
    const N = 3; const T = 9
    const seqs = Array.from({ length: N }, (_, n) => Array.from(randomInts(T, 10 + n, config.vocabSize)))
    const acts = model.activations(N, T)
    be.write(acts.tokens, seqs.flat()); be.write(acts.targets, new Array(N * T).fill(0))
    model.forward(N, T)
    const forward = await be.read(acts.logits)
    // the whole sequence is prompt, so the sampler leaves every token in place
    const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = config
    const S = decodeScratchLayout(N, C, V, NH, T)
    const offsetList = decodeParamOffsets(model)
    const args = {
      tokens: upload(be, seqs.flat(), 'u32'), params: model.params, offsets: upload(be, offsetList, 'u32'), offsetList,
      kCache: zeros(be, L * N * C * T), vCache: zeros(be, L * N * C * T), scratch: zeros(be, S.total),
      promptLens: upload(be, new Array(N).fill(T), 'u32'), done: zeros(be, N, 'done', 'u32'),
      N, V, C, NH, L, maxLen: T, maxNew: 0, temperature: 1, topK: 0, eosId: 0, seed: 1, stream: 1,
    }
    for (let pos = 0; pos < T; pos++) {
      be.decodePositions({ ...args, posBegin: pos, posEnd: pos + 1 })
      const logits = await be.read(view(args.scratch.buffer, S.logits, N * V))
      for (let n = 0; n < N; n++) {
        const at = (n * T + pos) * V
        expectClose(logits.slice(n * V, (n + 1) * V), forward.slice(at, at + V), 1e-12, 1e-9, `position ${pos}, sequence ${n}`)
      }
    }
  })

  it('greedy decoding gives the tokens of greedy decoding by full forward passes', async () => {
    const model = new GPT(new CpuBackend('f32'), config)
    model.initialize(4)
    const prompts = [[1, 2], [3], [4, 5, 6], [7]]
    const out = await generate(model, { prompts, maxNewTokens: 10, temperature: 0, seed: 1 })
    expect(out.completions).toEqual(await greedyByForward(model, prompts, 10))
    expect(out.completions.some((c) => c.length > 1)).toBe(true)
  })

  it.each([[1, 0], [0.6, 4]])('the first sampled token follows softmax(forward logits / %s) over the top %s', async (temperature, topK) => {
    const be = new CpuBackend('f32')
    const model = new GPT(be, config)
    model.initialize(5)
    const prompt = [1, 2, 3]
    const acts = model.activations(1, prompt.length)
    be.write(acts.tokens, prompt); be.write(acts.targets, [0, 0, 0])
    model.forward(1, prompt.length)
    const last = (await be.read(acts.logits)).slice((prompt.length - 1) * config.vocabSize)
    const p = samplingDistribution(last, temperature, topK)
    const draws = 8000
    const out = await generate(model, { prompts: new Array(draws).fill(prompt), maxNewTokens: 1, temperature, topK, seed: 9 })
    expectDrawnAs(out.completions.map((c) => c[0]), p)
  })
})
