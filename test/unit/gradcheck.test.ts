// Every backward pass against central finite differences, in float64 (the CPU backend in f64
// mode). Then the WebGPU kernels are held to these CPU twins by test/gpu/kernels.test.ts.
import { describe, expect, it } from 'vitest'
import type { Backend, Tensor } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { GRPO_STATS } from '../../src/engine/backend'
import { GPT } from '../../src/model/gpt'
import { randomArray, randomInts, upload, zeros } from '../helpers'

const be = new CpuBackend('f64')
const EPS = 1e-6
/** relative error allowed between analytic and numeric gradients (float64, central differences) */
const TOL = 1e-6

/** Σ w·t: the scalar loss whose gradient w.r.t. t is w. */
async function dot(t: Tensor, w: ArrayLike<number>): Promise<number> {
  const v = await be.read(t)
  let s = 0
  for (let i = 0; i < v.length; i++) s += v[i] * w[i]
  return s
}

/** Compare an analytic gradient with (L(x+ε) − L(x−ε)) / 2ε for every element of x. */
async function checkGradient(what: string, x: Tensor, analytic: ArrayLike<number>, loss: () => Promise<number>): Promise<void> {
  const base = Float64Array.from(await be.read(x))
  let worst = 0
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice(); plus[i] += EPS
    be.write(x, plus)
    const lp = await loss()
    const minus = base.slice(); minus[i] -= EPS
    be.write(x, minus)
    const lm = await loss()
    const numeric = (lp - lm) / (2 * EPS)
    const err = Math.abs(numeric - analytic[i]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i]))
    worst = Math.max(worst, err)
    if (!(err < TOL)) throw new Error(`${what}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`)
  }
  be.write(x, base)
  expect(worst).toBeLessThan(TOL)
}

async function readAll(t: Tensor): Promise<Float64Array> { return Float64Array.from(await be.read(t)) }

describe('backward passes match central finite differences (float64)', () => {
  it('embedding: token and position tables', async () => {
    const B = 2; const T = 3; const C = 4; const V = 5; const maxT = 4
    const tokens = upload(be, [1, 4, 1, 0, 2, 4], 'u32')
    const wte = upload(be, randomArray(V * C, 1)); const wpe = upload(be, randomArray(maxT * C, 2))
    const out = zeros(be, B * T * C); const w = randomArray(B * T * C, 3)
    const loss = async () => { be.embeddingForward(out, tokens, wte, wpe, B, T, C); return dot(out, w) }
    const dwte = zeros(be, V * C); const dwpe = zeros(be, maxT * C)
    be.embeddingBackward(dwte, dwpe, upload(be, w), tokens, B, T, C, V, false)
    await checkGradient('dwte', wte, await readAll(dwte), loss)
    await checkGradient('dwpe', wpe, await readAll(dwpe), loss)
  })

  it('layernorm: input, weight and bias', async () => {
    const rows = 3; const C = 6
    const x = upload(be, randomArray(rows * C, 4, 2)); const weight = upload(be, randomArray(C, 5))
    const bias = upload(be, randomArray(C, 6))
    const out = zeros(be, rows * C); const mean = zeros(be, rows); const rstd = zeros(be, rows)
    const w = randomArray(rows * C, 7)
    const loss = async () => { be.layernormForward(out, mean, rstd, x, weight, bias, rows, C); return dot(out, w) }
    await loss()
    const dx = zeros(be, rows * C); const dw = zeros(be, C); const db = zeros(be, C)
    be.layernormBackward(dx, dw, db, upload(be, w), x, weight, mean, rstd, rows, C, false)
    const [gx, gw, gb] = [await readAll(dx), await readAll(dw), await readAll(db)]
    await checkGradient('dinp', x, gx, loss)
    await checkGradient('dweight', weight, gw, loss)
    await checkGradient('dbias', bias, gb, loss)
  })

  it('MLP pieces: linear layer (matmul + bias) and GELU', async () => {
    const M = 4; const K = 5; const N = 3
    const x = upload(be, randomArray(M * K, 8)); const W = upload(be, randomArray(N * K, 9))
    const b = upload(be, randomArray(N, 10))
    const h = zeros(be, M * N); const y = zeros(be, M * N); const w = randomArray(M * N, 11)
    // L = Σ w · gelu(x·Wᵀ + b)
    const loss = async () => {
      be.matmul({ out: h, a: x, b: W, bias: b, M, N, K, transB: true })
      be.geluForward(y, h)
      return dot(y, w)
    }
    await loss()
    const dh = zeros(be, M * N); be.geluBackward(dh, h, upload(be, w))
    const dx = zeros(be, M * K); be.matmul({ out: dx, a: dh, b: W, M, N: K, K: N })
    const dW = zeros(be, N * K); be.matmul({ out: dW, a: dh, b: x, M: N, N: K, K: M, transA: true })
    const db = zeros(be, N); be.biasGrad(db, dh, M, N, false)
    const [gx, gW, gb] = [await readAll(dx), await readAll(dW), await readAll(db)]
    await checkGradient('dx', x, gx, loss)
    await checkGradient('dW', W, gW, loss)
    await checkGradient('db', b, gb, loss)
  })

  it('causal self-attention: q, k and v', async () => {
    const B = 2; const T = 4; const C = 6; const NH = 2
    const qkv = upload(be, randomArray(B * T * 3 * C, 12))
    const out = zeros(be, B * T * C); const att = zeros(be, B * NH * T * T)
    const w = randomArray(B * T * C, 13)
    const loss = async () => { be.attentionForward(out, att, qkv, B, T, C, NH); return dot(out, w) }
    await loss()
    const dqkv = zeros(be, B * T * 3 * C); const datt = zeros(be, B * NH * T * T)
    be.attentionBackward(dqkv, datt, upload(be, w), qkv, att, B, T, C, NH)
    await checkGradient('dqkv', qkv, await readAll(dqkv), loss)
  })

  it.each([[1, false], [1 / 0.7, true], [1 / 1.6, true]])('log-prob (fused log-softmax + gather) at 1/T = %s, entropy gradient %s: logits', async (invT, withEntropy) => {
    const rows = 4; const V = 7
    const logits = upload(be, randomArray(rows * V, 14, 3))
    const targets = upload(be, [3, 0, 6, 2], 'u32')
    const logp = zeros(be, rows); const ent = zeros(be, rows); const c = randomArray(rows, 15)
    // L = Σ c·logp (+ Σ e·entropy): both outputs at the temperature
    const e = withEntropy ? randomArray(rows, 16) : new Float64Array(rows)
    const loss = async () => { be.logprobForward(logp, ent, logits, targets, rows, V, invT); return await dot(logp, c) + await dot(ent, e) }
    const dlogits = zeros(be, rows * V)
    be.logprobBackward(dlogits, logits, targets, upload(be, c), rows, V, invT, withEntropy ? upload(be, e) : undefined)
    await checkGradient('dlogits', logits, await readAll(dlogits), loss)
  })

  it('log-prob entropy alone (dlogp = 0) at 1/T = 1.3: the entropy term of the gradient on its own', async () => {
    const rows = 3; const V = 5; const invT = 1.3
    const logits = upload(be, randomArray(rows * V, 17, 2))
    const targets = upload(be, [1, 4, 0], 'u32')
    const logp = zeros(be, rows); const ent = zeros(be, rows); const e = randomArray(rows, 18)
    const loss = async () => { be.logprobForward(logp, ent, logits, targets, rows, V, invT); return dot(ent, e) }
    const dlogits = zeros(be, rows * V)
    be.logprobBackward(dlogits, logits, targets, zeros(be, rows), rows, V, invT, upload(be, e))
    await checkGradient('dlogits', logits, await readAll(dlogits), loss)
  })

  it('log-prob at a temperature is log-softmax of logits / T (and its entropy), computed directly', async () => {
    const rows = 2; const V = 6; const T = 0.8
    const raw = randomArray(rows * V, 19, 3)
    const logp = zeros(be, rows); const ent = zeros(be, rows)
    be.logprobForward(logp, ent, upload(be, raw), upload(be, [5, 2], 'u32'), rows, V, 1 / T)
    const [lp, en] = [await readAll(logp), await readAll(ent)]
    ;[5, 2].forEach((target, r) => {
      const z = Array.from(raw.slice(r * V, (r + 1) * V), (x) => x / T)
      const logZ = Math.log(z.reduce((s, x) => s + Math.exp(x), 0))
      expect(lp[r]).toBeCloseTo(z[target] - logZ, 12)
      expect(en[r]).toBeCloseTo(-z.reduce((s, x) => s + Math.exp(x - logZ) * (x - logZ), 0), 12)
    })
  })

  it('GRPO loss (clipped objective + β·KL, grpo aggregation): log-probs', async () => {
    const N = 3; const T = 4
    const logp = upload(be, randomArray(N * T, 20, 1).map((x) => -Math.abs(x) - 0.1))
    // old log-probs chosen so that ratios fall inside, below and above the clip range, away from its edges
    const oldLogp = upload(be, Array.from(await be.read(logp)).map((v, i) => v + [0, 0.5, -0.5, 0.05][i % 4]))
    const refLogp = upload(be, randomArray(N * T, 21, 1).map((x) => -Math.abs(x)))
    const entropy = zeros(be, N * T)
    const mask = upload(be, [1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1])
    const advantages = upload(be, [0.8, -1.1, 0.3]); const weights = upload(be, [1 / 9, 1 / 6, 1 / 12])
    const dlogp = zeros(be, N * T); const tokenTerms = zeros(be, 3 * N * T); const stats = zeros(be, GRPO_STATS)
    const loss = async () => {
      be.grpoLoss({ logp, oldLogp, refLogp, entropy, mask, advantages, weights, dlogp, tokenTerms, stats,
        N, T, epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04 })
      return (await be.read(stats))[0]
    }
    await loss()
    await checkGradient('dlogp', logp, await readAll(dlogp), loss)
  })

  it('the whole GPT: every parameter, two layers', async () => {
    const model = new GPT(be, { vocabSize: 7, blockSize: 5, nLayer: 2, nHead: 2, nEmbd: 4 })
    model.initialize(3)
    // larger weights than GPT-2's 0.02 so that every path carries a measurable gradient
    const flat = await model.readFlat()
    const noise = randomArray(flat.length, 16, 0.5)
    model.loadFlat(flat.map((v, i) => v + noise[i]))
    const B = 2; const T = 4
    const acts = model.activations(B, T)
    be.write(acts.tokens, randomInts(B * T, 17, 7))
    be.write(acts.targets, randomInts(B * T, 18, 7))
    const c = randomArray(B * T, 19)
    be.write(acts.dlogp, c)
    const loss = async () => { model.forward(B, T); return dot(acts.logp, c) }
    await loss()
    model.backward()
    await checkGradient('model', model.params, await readAll(model.grads), loss)
  })

  it('the whole GPT at temperature 0.7 with an entropy term: every parameter', async () => {
    const model = new GPT(be, { vocabSize: 7, blockSize: 5, nLayer: 1, nHead: 2, nEmbd: 4 })
    model.initialize(5)
    const flat = await model.readFlat()
    const noise = randomArray(flat.length, 26, 0.5)
    model.loadFlat(flat.map((v, i) => v + noise[i]))
    const B = 2; const T = 3
    const acts = model.activations(B, T)
    be.write(acts.tokens, randomInts(B * T, 27, 7))
    be.write(acts.targets, randomInts(B * T, 28, 7))
    const c = randomArray(B * T, 29); const e = randomArray(B * T, 30)
    be.write(acts.dlogp, c)
    be.write(acts.dentropy, e)
    // L = Σ c·logp + Σ e·entropy, both at T = 0.7
    const loss = async () => { model.forward(B, T, undefined, { temperature: 0.7 }); return await dot(acts.logp, c) + await dot(acts.entropy, e) }
    await loss()
    model.backward(false, true)
    await checkGradient('model', model.params, await readAll(model.grads), loss)
  })
})

// A sanity check of the checker itself: a wrong gradient must be caught.
describe('the finite-difference checker', () => {
  it('rejects a wrong gradient', async () => {
    const x = upload(be as Backend, [0.3, -0.2])
    const loss = async () => { const v = await be.read(x); return v[0] * v[0] + 3 * v[1] }
    await expect(checkGradient('bad', x, [0.6, 2.9], loss)).rejects.toThrow(/analytic/)
  })
})
