// The fast CPU backend (WebAssembly SIMD, threads) against the reference CpuBackend, kernel by
// kernel, on the same inputs: the cases of test/gpu/kernels.test.ts with its tolerances (1e-5
// absolute + 1e-4 relative; token ids and flags identical), and shapes that reach the kernels'
// edges (rows and columns past the matmul tiles, K across its blocks, heads of odd size, rows not a
// multiple of four). Run on three threads, so that every kernel is split into parts; for both
// builds, SIMD alone (what Node 20 runs) and with relaxed SIMD's fused multiply-add (what Chromium
// runs; Node validates it once V8's flag is set).
import { setFlagsFromString } from 'node:v8'
import { afterAll, describe, expect, it } from 'vitest'
import type { Backend, Tensor } from '../../src/engine/backend'
import { view } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import type { FastCpuBackend } from '../../src/engine/cpu/fastCpuBackend'
import { createFastCpuBackend } from '../../src/engine/cpu/fastCpuNode'
import { tensorsFromFlat } from '../../src/model/checkpoint'
import type { GPTConfig } from '../../src/model/config'
import { generate } from '../../src/model/decode'
import { GPT } from '../../src/model/gpt'
import { AdamW } from '../../src/model/optimizer'
import { expectClose, fusedDecode, randomArray, randomInts, upload, zeros } from '../helpers'

const ATOL = 1e-5
const RTOL = 1e-4

type Case = (be: Backend) => Tensor[]

const cpu = new CpuBackend('f32')

for (const relaxed of [false, true]) describe(`the fast CPU backend (${relaxed ? 'SIMD + relaxed FMA' : 'SIMD'}) matches the reference CPU backend`, () => {
  let fastBackend: Promise<FastCpuBackend> | undefined
  const fast = () => (fastBackend ??= (async () => {
    if (relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd') // on by default from Node 22
    return createFastCpuBackend({ threads: 3, relaxed })
  })())
  afterAll(async () => { if (fastBackend) (await fastBackend).destroy() })

  /** Run a case on both backends and compare every output tensor. */
  async function twin(name: string, run: Case, atol = ATOL, rtol = RTOL): Promise<void> {
    const be = await fast()
    const expected = run(cpu)
    const actual = run(be)
    for (let i = 0; i < expected.length; i++) {
      const e = await cpu.read(expected[i])
      const a = await be.read(actual[i])
      if (expected[i].buffer.dtype === 'u32') expect(Array.from(a), `${name} output ${i}`).toEqual(Array.from(e))
      else expectClose(a, e, atol, rtol, `${name} output ${i}`)
    }
  }

  it(`runs on three threads of WebAssembly SIMD${relaxed ? ' with relaxed FMA' : ''}`, async () => {
    const simd = relaxed ? 'WebAssembly SIMD \\+ relaxed FMA' : 'WebAssembly SIMD'
    expect((await fast()).describe().description).toMatch(new RegExp(`^CPU backend \\(${simd}, 3 threads\\)$`))
  })

  it.each([[1000], [4099 * 3 + 2]])('elementwise: fill, copy, add, gelu forward and backward (%s elements)', async (n) => {
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
    ['aᵀ·bᵀ', true, true, true, true],
  ])('matmul %s, odd sizes', async (_name, transA, transB, withBias, accumulate) => {
    for (const [M, N, K] of [[37, 29, 23], [1, 1, 1], [5, 8, 3], [70, 41, 300], [9, 136, 520]]) {
      await twin(`matmul ${M}×${N}×${K}`, (be) => {
        const a = upload(be, randomArray(M * K, 3)); const b = upload(be, randomArray(K * N, 4))
        const bias = upload(be, randomArray(N, 5))
        const out = upload(be, randomArray(M * N, 6))
        be.matmul({ out, a, b, bias: withBias ? bias : undefined, M, N, K, transA, transB, accumulate })
        return [out]
      })
    }
  })

  it('matmul into a view, from views (offsets inside shared buffers)', async () => {
    const M = 13; const N = 24; const K = 17
    await twin('matmul views', (be) => {
      const a = upload(be, randomArray(M * K + 5, 7)); const b = upload(be, randomArray(K * N + 3, 8))
      const out = upload(be, randomArray(M * N + 9, 9))
      be.matmul({ out: view(out.buffer, 9), a: view(a.buffer, 5), b: view(b.buffer, 3), M, N, K, transB: true })
      return [out]
    })
  })

  it('bias gradient (column sums), overwrite and accumulate', async () => {
    for (const [M, N] of [[33, 17], [300, 64], [7, 3]]) {
      await twin('biasGrad', (be) => {
        const dout = upload(be, randomArray(M * N, 7))
        const d1 = upload(be, randomArray(N, 8)); be.biasGrad(d1, dout, M, N, false)
        const d2 = upload(be, randomArray(N, 9)); be.biasGrad(d2, dout, M, N, true)
        return [d1, d2]
      })
    }
  })

  it('embedding forward, backward (tokens and positions), one-position lookup', async () => {
    for (const [B, T, C, V, maxT] of [[3, 5, 8, 11, 7], [4, 9, 13, 29, 12]]) {
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
    }
  })

  it.each([[19, 24], [130, 7], [64, 64]])('layernorm forward and backward (%s rows of %s)', async (rows, C) => {
    await twin('layernorm', (be) => {
      const x = upload(be, randomArray(rows * C, 17, 2)); const w = upload(be, randomArray(C, 18))
      const b = upload(be, randomArray(C, 19))
      const out = zeros(be, rows * C); const mean = zeros(be, rows); const rstd = zeros(be, rows)
      be.layernormForward(out, mean, rstd, x, w, b, rows, C)
      const dout = upload(be, randomArray(rows * C, 20))
      const dx = upload(be, randomArray(rows * C, 21)); const dw = upload(be, randomArray(C, 22))
      const db = upload(be, randomArray(C, 23))
      be.layernormBackward(dx, dw, db, dout, x, w, mean, rstd, rows, C, true)
      const dw0 = upload(be, randomArray(C, 24)); const db0 = upload(be, randomArray(C, 25))
      be.layernormBackward(dx, dw0, db0, dout, x, w, mean, rstd, rows, C, false)
      return [out, mean, rstd, dx, dw, db, dw0, db0]
    })
  })

  it.each([[2, 6, 12, 3], [3, 11, 10, 2], [2, 33, 64, 4]])('causal attention forward and backward (B %s, T %s, C %s, %s heads)', async (B, T, C, NH) => {
    await twin('attention', (be) => {
      const qkv = upload(be, randomArray(B * T * 3 * C, 24))
      const out = zeros(be, B * T * C); const att = zeros(be, B * NH * T * T)
      be.attentionForward(out, att, qkv, B, T, C, NH)
      const dout = upload(be, randomArray(B * T * C, 25))
      const dqkv = zeros(be, B * T * 3 * C); const datt = zeros(be, B * NH * T * T)
      be.attentionBackward(dqkv, datt, dout, qkv, att, B, T, C, NH)
      return [out, att, dqkv, datt]
    })
  })

  it.each([[3, 8, 2, 5], [7, 10, 2, 9]])('decoding attention with a KV cache (N %s, C %s, %s heads)', async (N, C, NH, maxLen) => {
    await twin('attentionDecode', (be) => {
      const kc = zeros(be, N * C * maxLen); const vc = zeros(be, N * C * maxLen)
      const out = zeros(be, N * C)
      for (let pos = 0; pos < maxLen - 1; pos++) {
        const qkv = upload(be, randomArray(N * 3 * C, 26 + pos))
        be.attentionDecode(out, qkv, kc, vc, N, C, NH, maxLen, pos)
      }
      return [out, kc, vc]
    })
  })

  it.each([[1, false], [1 / 0.7, true], [1 / 1.5, false]])('fused log-softmax + gather, entropy, and backward at 1/T = %s (entropy gradient %s)', async (invT, withEntropy) => {
    for (const [rows, V] of [[21, 37], [50, 29], [9, 3]]) {
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
    }
  })

  it.each([[0, 'no clipping'], [0.05, 'clipped']])('AdamW with weight decay, max_grad_norm %s (%s)', async (maxGradNorm) => {
    const n = 13000 // several of the norm's chunks
    await twin('adamw', (be) => {
      const params = upload(be, randomArray(n, 33)); const grads = upload(be, randomArray(n, 34, 0.01))
      const m = upload(be, randomArray(n, 35, 0.001)); const v = upload(be, randomArray(n, 36, 0.0001).map(Math.abs))
      const gradNorm = zeros(be, 1)
      be.adamw({ params, grads, m, v, decayEnd: 7100, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8,
        weightDecay: 0.1, step: 3, maxGradNorm, gradNorm })
      return [params, m, v, gradNorm]
    })
  })

  it.each([
    [16, 2, 1, 0.9, 0, 0, 5], [96, 3, 2, 1.0, 4, 3, 5], [8, 1, 3, 0, 0, 2, 5], [20, 4, 2, 1.0, 0, 0, 13],
  ])('fused decode (C %s, %s heads, %s layers, temperature %s, top-k %s, %s positions per call, %s sequences): tokens, logits and caches', async (C, NH, L, temperature, topK, chunk, N) => {
    await twin('decodePositions', (be) => fusedDecode(be, N, C, NH, L, temperature, topK, chunk, 11), 1e-4, 1e-3)
  })

  it.each([[1, false], [0.7, true]])('the whole 2-layer GPT: log-probs, entropy, every gradient, one AdamW step and a sampled rollout (temperature %s, entropy gradient %s)', async (temperature, entropyGrad) => {
    const config: GPTConfig = { vocabSize: 13, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 24 }
    const B = 5; const T = 21
    const tokens = randomInts(B * T, 1, config.vocabSize); const targets = randomInts(B * T, 2, config.vocabSize)
    const dlogp = Float32Array.from({ length: B * T }, (_, i) => -(1 + (i % 3)) / (B * T))
    const dentropy = Float32Array.from({ length: B * T }, (_, i) => ((i % 5) - 2) / (B * T))
    const named = async (model: GPT, of: Tensor) => tensorsFromFlat(model.config, model.backend.alignment, Float32Array.from(await model.backend.read(of)))
    const results = []
    for (const be of [cpu, await fast()] as Backend[]) {
      const model = new GPT(be, config)
      model.initialize(42)
      const opt = new AdamW(model, { learningRate: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 })
      const acts = model.activations(B, T)
      be.write(acts.tokens, tokens); be.write(acts.targets, targets); be.write(acts.dlogp, dlogp); be.write(acts.dentropy, dentropy)
      model.forward(B, T, undefined, { temperature })
      model.backward(false, entropyGrad)
      const grads = await named(model, model.grads)
      opt.update()
      const rollout = await generate(model, { prompts: [[1, 2], [3], [4, 5, 6], [7]], maxNewTokens: 12, temperature, seed: 5 })
      results.push({ logp: await be.read(acts.logp), entropy: await be.read(acts.entropy), grads, gradNorm: await be.read(opt.gradNorm),
        params: await named(model, model.params), rollout: rollout.completions })
      opt.destroy(); model.destroy()
    }
    const [c, f] = results
    expectClose(f.logp, c.logp, ATOL, RTOL, 'logp')
    expectClose(f.entropy, c.entropy, ATOL, RTOL, 'entropy')
    expect([...f.grads.keys()]).toEqual([...c.grads.keys()])
    for (const [name, expected] of c.grads) expectClose(f.grads.get(name)!, expected, 1e-6, 1e-3, `grad ${name}`)
    expectClose(f.gradNorm, c.gradNorm, 1e-6, 1e-4, 'grad norm')
    for (const [name, expected] of c.params) expectClose(f.params.get(name)!, expected, 1e-5, 1e-3, `param ${name}`)
    expect(f.rollout).toEqual(c.rollout)
  })

  it('counts as the reference does: one dispatch per op, one for a whole decode', async () => {
    const be = await fast()
    const before = { fast: be.counters.dispatches, cpu: cpu.counters.dispatches }
    for (const b of [be, cpu] as Backend[]) {
      const x = upload(b, randomArray(64, 1)); const y = zeros(b, 64)
      b.geluForward(y, x); b.add(y, x, y)
      b.matmul({ out: zeros(b, 64), a: x, b: upload(b, randomArray(64, 2)), M: 8, N: 8, K: 8, transB: true })
    }
    expect(be.counters.dispatches - before.fast).toBe(cpu.counters.dispatches - before.cpu)
  })

  it('frees what it destroys: the memory of a destroyed buffer is reused, a use after destroy is refused', async () => {
    const be = await fast()
    const live = be.counters.liveBuffers
    const a = be.createBuffer(1000, 'f32', 'a')
    be.destroyBuffer(a)
    expect(be.counters.liveBuffers).toBe(live)
    const b = be.createBuffer(1000, 'f32', 'b')
    expect((b as unknown as { address: number }).address).toBe((a as unknown as { address: number }).address)
    expect(Array.from(await be.read(view(b)))).toEqual(new Array(1000).fill(0)) // zeroed again
    expect(() => be.fill(view(a), 1)).toThrow(/'a' was used after destroyBuffer/)
    be.destroyBuffer(b)
  })
})
