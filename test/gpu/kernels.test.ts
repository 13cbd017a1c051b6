// Tier 2: every WGSL kernel against its CPU twin, on the same inputs.
// Tolerances: 1e-5 absolute + 1e-4 relative for float kernels (float32, different summation
// order and exp/tanh implementations); token ids and flags must be identical. Each test runs
// inside WebGPU error scopes (useGpu): a validation error, which WebGPU never throws, fails it.
import { describe, expect, it } from 'vitest'
import type { Backend, Tensor } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { GRPO_STATS } from '../../src/engine/backend'
import { useGpu, randomArray, randomInts, upload, zeros, expectClose, fusedDecode } from '../helpers'

const ATOL = 1e-5
const RTOL = 1e-4

type Case = (be: Backend) => Tensor[]

const gpu = useGpu()
const cpu = new CpuBackend('f32')

/** Run a case on both backends and compare every output tensor. */
async function twin(name: string, run: Case, atol = ATOL, rtol = RTOL): Promise<void> {
  const expected = run(cpu)
  const actual = run(gpu())
  for (let i = 0; i < expected.length; i++) {
    const e = await cpu.read(expected[i])
    const a = await gpu().read(actual[i])
    if (expected[i].buffer.dtype === 'u32') expect(Array.from(a)).toEqual(Array.from(e))
    else expectClose(a, e, atol, rtol, `${name} output ${i}`)
  }
}

describe('WGSL kernels match their CPU twins', () => {
  it('elementwise: fill, copy, add, gelu forward and backward', async () => {
    const n = 1000
    await twin('elementwise', (be) => {
      const x = upload(be, randomArray(n, 1, 3)); const y = upload(be, randomArray(n, 2))
      const filled = zeros(be, n); be.fill(filled, 0.25)
      const copied = zeros(be, n); be.copy(copied, x)
      const sum = zeros(be, n); be.add(sum, x, y)
      const g = zeros(be, n); be.geluForward(g, x)
      const dg = zeros(be, n); be.geluBackward(dg, x, y)
      return [filled, copied, sum, g, dg]
    })
  })

  it.each([
    ['x·Wᵀ + b (forward)', false, true, true, false],
    ['dy·W (input gradient)', false, false, false, false],
    ['dyᵀ·x (weight gradient), accumulating', true, false, false, true],
  ])('matmul %s, odd sizes', async (_name, transA, transB, withBias, accumulate) => {
    const M = 37; const N = 29; const K = 23
    await twin('matmul', (be) => {
      const a = upload(be, randomArray(M * K, 3)); const b = upload(be, randomArray(K * N, 4))
      const bias = upload(be, randomArray(N, 5))
      const out = upload(be, randomArray(M * N, 6))
      be.matmul({ out, a, b, bias: withBias ? bias : undefined, M, N, K, transA, transB, accumulate })
      return [out]
    })
  })

  it('bias gradient (column sums), overwrite and accumulate', async () => {
    await twin('biasGrad', (be) => {
      const dout = upload(be, randomArray(33 * 17, 7))
      const d1 = upload(be, randomArray(17, 8)); be.biasGrad(d1, dout, 33, 17, false)
      const d2 = upload(be, randomArray(17, 9)); be.biasGrad(d2, dout, 33, 17, true)
      return [d1, d2]
    })
  })

  it('embedding forward, backward (tokens and positions), one-position lookup', async () => {
    const B = 3; const T = 5; const C = 8; const V = 11; const maxT = 7
    await twin('embedding', (be) => {
      const tokens = upload(be, randomInts(B * T, 10, V), 'u32')
      const wte = upload(be, randomArray(V * C, 11)); const wpe = upload(be, randomArray(maxT * C, 12))
      const out = zeros(be, B * T * C); be.embeddingForward(out, tokens, wte, wpe, B, T, C)
      const dout = upload(be, randomArray(B * T * C, 13))
      const dwte = upload(be, randomArray(V * C, 14)); const dwpe = upload(be, randomArray(maxT * C, 15))
      be.embeddingBackward(dwte, dwpe, dout, tokens, B, T, C, V, true)
      const dwte0 = zeros(be, V * C); const dwpe0 = upload(be, randomArray(maxT * C, 16))
      be.embeddingBackward(dwte0, dwpe0, dout, tokens, B, T, C, V, false)
      const at = zeros(be, B * C); be.embeddingForwardAt(at, tokens, wte, wpe, B, T, 3, C)
      return [out, dwte, dwpe, dwte0, dwpe0, at]
    })
  })

  it('layernorm forward and backward', async () => {
    const rows = 19; const C = 24
    await twin('layernorm', (be) => {
      const x = upload(be, randomArray(rows * C, 17, 2)); const w = upload(be, randomArray(C, 18))
      const b = upload(be, randomArray(C, 19))
      const out = zeros(be, rows * C); const mean = zeros(be, rows); const rstd = zeros(be, rows)
      be.layernormForward(out, mean, rstd, x, w, b, rows, C)
      const dout = upload(be, randomArray(rows * C, 20))
      const dx = upload(be, randomArray(rows * C, 21)); const dw = upload(be, randomArray(C, 22))
      const db = upload(be, randomArray(C, 23))
      be.layernormBackward(dx, dw, db, dout, x, w, mean, rstd, rows, C, true)
      return [out, mean, rstd, dx, dw, db]
    })
  })

  /** Forward then backward of causal attention on one backend: [out, att, dqkv, datt]. */
  function attention(be: Backend, B: number, T: number, C: number, NH: number, seed = 24): Tensor[] {
    const qkv = upload(be, randomArray(B * T * 3 * C, seed))
    const out = zeros(be, B * T * C); const att = zeros(be, B * NH * T * T)
    be.attentionForward(out, att, qkv, B, T, C, NH)
    const dout = upload(be, randomArray(B * T * C, seed + 1))
    const dqkv = zeros(be, B * T * 3 * C); const datt = zeros(be, B * NH * T * T)
    be.attentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH)
    return [out, att, dqkv, datt]
  }

  // the kernels work in blocks of 16 rows, 4 lanes a row, vec4 reads when the head size allows:
  // T off the block, head sizes 4, 8, 16, 32 (vec4) and 5, 6 (one float at a time)
  it.each([
    [2, 6, 12, 3], [2, 17, 16, 4], [1, 33, 16, 2], [2, 23, 32, 2], [1, 21, 64, 2], [1, 16, 10, 2], [3, 40, 8, 1], [1, 3, 10, 2], [2, 18, 18, 3],
  ])('causal attention forward and backward (B %s, T %s, C %s, %s heads)', async (B, T, C, NH) => {
    await twin('attention', (be) => attention(be, B, T, C, NH))
  })

  it('attention and the fused decoder give the same bits on every run', async () => {
    const bits = async (ts: Tensor[]) => Promise.all(ts.map(async (t) => Array.from(new Uint32Array((await gpu().read(t)).buffer))))
    const first = await bits(attention(gpu(), 3, 37, 32, 4, 70))
    const second = await bits(attention(gpu(), 3, 37, 32, 4, 70))
    expect(second).toEqual(first)
    const decoded = [await bits(fusedDecode(gpu(), 5, 48, 4, 2, 1.0, 5, 0, 70)), await bits(fusedDecode(gpu(), 5, 48, 4, 2, 1.0, 5, 0, 70))]
    expect(decoded[1]).toEqual(decoded[0])
  })

  it('decoding attention with a KV cache', async () => {
    const N = 3; const C = 8; const NH = 2; const maxLen = 5
    await twin('attentionDecode', (be) => {
      const kc = zeros(be, N * C * maxLen); const vc = zeros(be, N * C * maxLen)
      const out = zeros(be, N * C)
      for (let pos = 0; pos < 4; pos++) {
        const qkv = upload(be, randomArray(N * 3 * C, 26 + pos))
        be.attentionDecode(out, qkv, kc, vc, N, C, NH, maxLen, pos)
      }
      return [out, kc, vc]
    })
  })

  it.each([[1, false], [1 / 0.7, true], [1 / 1.5, false]])('fused log-softmax + gather, entropy, and backward at 1/T = %s (entropy gradient %s)', async (invT, withEntropy) => {
    const rows = 21; const V = 37
    await twin('logprob', (be) => {
      const logits = upload(be, randomArray(rows * V, 30, 4))
      const targets = upload(be, randomInts(rows, 31, V), 'u32')
      const logp = zeros(be, rows); const ent = zeros(be, rows)
      be.logprobForward(logp, ent, logits, targets, rows, V, invT)
      const dlogp = upload(be, randomArray(rows, 32))
      const dentropy = withEntropy ? upload(be, randomArray(rows, 33)) : undefined
      const dlogits = zeros(be, rows * V)
      be.logprobBackward(dlogits, logits, targets, dlogp, rows, V, invT, dentropy)
      return [logp, ent, dlogits]
    })
  })

  it.each([[0, 'no clipping'], [0.05, 'clipped']])('AdamW with weight decay, max_grad_norm %s (%s)', async (maxGradNorm) => {
    const n = 3000
    await twin('adamw', (be) => {
      const params = upload(be, randomArray(n, 33)); const grads = upload(be, randomArray(n, 34, 0.01))
      const m = upload(be, randomArray(n, 35, 0.001)); const v = upload(be, randomArray(n, 36, 0.0001).map(Math.abs))
      const gradNorm = zeros(be, 1)
      be.adamw({ params, grads, m, v, decayEnd: 1700, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8,
        weightDecay: 0.1, step: 3, maxGradNorm, gradNorm })
      return [params, m, v, gradNorm]
    })
  })

  // logits on a grid of 0.5 in the last case: ties at the top-k boundary are all kept
  it.each([
    [1.0, 0, false], [0.7, 5, false], [0, 0, false], [1.0, 3, true],
  ])('sampling (temperature %s, top-k %s, ties %s) picks the same tokens from the same logits', async (temperature, topK, ties) => {
    const N = 64; const V = 13; const maxLen = 6
    await twin('sample', (be) => {
      const prompt = new Uint32Array(N * maxLen)
      const lens = new Uint32Array(N)
      for (let n = 0; n < N; n++) { lens[n] = 1 + (n % 3); for (let t = 0; t < lens[n]; t++) prompt[n * maxLen + t] = 1 + t }
      const tokens = upload(be, prompt, 'u32'); const promptLens = upload(be, lens, 'u32')
      const done = zeros(be, N, 'done', 'u32')
      for (let pos = 0; pos < maxLen - 1; pos++) {
        const logits = upload(be, randomArray(N * V, 40 + pos, 3).map((x) => (ties ? Math.round(x * 2) / 2 : x)))
        be.sample({ tokens, logits, promptLens, done, N, V, maxLen, pos, maxNew: 3, temperature, topK,
          eosId: 0, seed: 1234, stream: 2 })
      }
      return [tokens, done]
    })
  })

  // heads 1 … 16 (the softmax's lanes per head), vocabularies past the workgroup (the split peak
  // and top-k floor), greedy and sampled
  it.each([
    [16, 2, 1, 0.9, 0, 0, 11], [96, 3, 2, 1.0, 4, 3, 11], [8, 1, 3, 0, 0, 2, 11], [32, 1, 1, 1.0, 0, 0, 11],
    [64, 16, 1, 1.0, 7, 0, 100], [32, 4, 2, 0.8, 70, 4, 130], [40, 8, 1, 0, 0, 0, 70],
  ])('fused decode (C %s, %s heads, %s layers, temperature %s, top-k %s, %s positions per call, vocabulary %s): tokens, logits and caches', async (C, NH, L, temperature, topK, chunk, V) => {
    await twin('decodePositions', (be) => fusedDecode(be, 5, C, NH, L, temperature, topK, chunk, V), 1e-4, 1e-3)
  })

  it.each([['group'], ['batch'], ['none']] as const)('GRPO advantages, scale_rewards = %s', async (scale) => {
    const numGroups = 5; const G = 4
    await twin('advantages', (be) => {
      const r = Array.from(randomArray(numGroups * G, 50)).map((x) => Math.round(x * 2) / 2)
      r.splice(4, 4, 0.5, 0.5, 0.5, 0.5) // one zero-variance group
      const rewards = upload(be, r)
      const advantages = zeros(be, numGroups * G); const std = zeros(be, numGroups * G); const zeroStdGroups = zeros(be, numGroups)
      be.advantages({ rewards, advantages, std, zeroStdGroups, numGroups, G, scale })
      return [advantages, std, zeroStdGroups]
    })
  })

  it('GRPO token loss: objective, KL, clip codes, dL/dlogp and the reduced statistics', async () => {
    const N = 70; const T = 9 // more sequences than the reducing workgroup's 64 threads
    await twin('grpoLoss', (be) => {
      const logp = upload(be, randomArray(N * T, 51, 2).map((x) => -Math.abs(x)))
      const oldLogp = upload(be, randomArray(N * T, 52, 2).map((x) => -Math.abs(x)))
      const refLogp = upload(be, randomArray(N * T, 53, 2).map((x) => -Math.abs(x)))
      const entropy = upload(be, randomArray(N * T, 54).map(Math.abs))
      const mask = upload(be, randomInts(N * T, 55, 2))
      const advantages = upload(be, randomArray(N, 56, 1.5)); const weights = upload(be, randomArray(N, 57, 0.01).map(Math.abs))
      const dlogp = zeros(be, N * T); const tokenTerms = zeros(be, 3 * N * T); const stats = zeros(be, GRPO_STATS)
      be.grpoLoss({ logp, oldLogp, refLogp, entropy, mask, advantages, weights, dlogp, tokenTerms, stats,
        N, T, epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04 })
      return [dlogp, tokenTerms, stats]
    })
  })
})
