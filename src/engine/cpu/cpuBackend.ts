// The reference CPU backend: every kernel of shaders/ written again in plain TypeScript. It is the
// twin the WebGPU kernels and the fast CPU backend (fastCpuBackend.ts, WebAssembly) are tested
// against, and, in float64 mode, the ground for finite-difference gradient checks.

import type {
  AdamWArgs, AdapterDescription, AdvantageArgs, Backend, Buffer, DecodeArgs, DType, GrpoLossArgs, MatmulArgs, SampleArgs, Tensor,
} from '../backend'
import {
  DECODE_GLOBAL_PARAMS, DECODE_LAYER_PARAMS, decodeScratchLayout, DEFAULT_GRPO_OBJECTIVE, GRPO_STATS, type GrpoObjective, GrpoStat,
  grpoLossDispatches, view,
} from '../backend'
import { BIG, clipCode, directGrad, k3, perTokenLoss, ratioGrad, torchQuantile, vespoPhi } from './grpoObjective'
import { countAllocation, newCounters } from '../counters'
import { uniform } from '../rng'

type FloatArray = Float32Array | Float64Array

export interface CpuBuffer extends Buffer {
  readonly data: FloatArray | Uint32Array
}

export const LAYERNORM_EPS = 1e-5
const GELU_SCALE = Math.sqrt(2 / Math.PI)

export class CpuBackend implements Backend {
  readonly kind = 'cpu' as const
  readonly counters = newCounters()
  readonly alignment = 1
  private nextId = 1

  /** 'f64' stores floats in float64: used by the finite-difference checks. */
  constructor(readonly precision: 'f32' | 'f64' = 'f32') {}

  describe(): AdapterDescription {
    return {
      backend: 'cpu', vendor: 'cpu', architecture: `typescript-${this.precision}`,
      device: 'CPU backend', description: `CPU backend (TypeScript, ${this.precision})`,
    }
  }

  createBuffer(length: number, dtype: DType, label: string): Buffer {
    const data = dtype === 'u32' ? new Uint32Array(length)
      : this.precision === 'f64' ? new Float64Array(length) : new Float32Array(length)
    const buf: CpuBuffer = { id: this.nextId++, dtype, length, label, data }
    countAllocation(this.counters, data.byteLength, 1)
    return buf
  }

  /** The memory goes with the last reference (GC); counted here so that leaks show as on WebGPU. */
  destroyBuffer(buffer: Buffer): void { countAllocation(this.counters, (buffer as CpuBuffer).data.byteLength, -1) }

  write(target: Tensor, data: ArrayLike<number>): void {
    if (data.length > target.length) throw new RangeError(`write of ${data.length} into '${target.buffer.label}' view of ${target.length}`)
    const arr = (target.buffer as CpuBuffer).data
    for (let i = 0; i < data.length; i++) arr[target.offset + i] = data[i]
    this.counters.bytesUp += data.length * 4
  }

  async read(source: Tensor): Promise<Float32Array | Float64Array | Uint32Array> {
    const arr = (source.buffer as CpuBuffer).data
    this.counters.readbacks++
    this.counters.bytesDown += source.length * 4
    return arr.slice(source.offset, source.offset + source.length)
  }

  flush(): void {}
  async sync(): Promise<void> {}
  destroy(): void {}

  /** Direct access for ops: the array behind a tensor and its start. */
  protected f(t: Tensor): [FloatArray, number] {
    return [(t.buffer as CpuBuffer).data as FloatArray, t.offset]
  }
  protected u(t: Tensor): [Uint32Array, number] {
    return [(t.buffer as CpuBuffer).data as Uint32Array, t.offset]
  }
  protected op(): void { this.counters.dispatches++ }

  // ---- elementwise ------------------------------------------------------------------------
  fill(out: Tensor, value: number): void {
    this.op()
    const arr = (out.buffer as CpuBuffer).data
    arr.fill(value, out.offset, out.offset + out.length)
  }

  copy(out: Tensor, src: Tensor): void {
    this.op()
    const [o, oo] = this.f(out); const [s, so] = this.f(src)
    for (let i = 0; i < out.length; i++) o[oo + i] = s[so + i]
  }

  add(out: Tensor, a: Tensor, b: Tensor): void {
    this.op()
    const [o, oo] = this.f(out); const [x, xo] = this.f(a); const [y, yo] = this.f(b)
    for (let i = 0; i < out.length; i++) o[oo + i] = x[xo + i] + y[yo + i]
  }

  geluForward(out: Tensor, inp: Tensor): void {
    this.op()
    const [o, oo] = this.f(out); const [x, xo] = this.f(inp)
    for (let i = 0; i < out.length; i++) {
      const v = x[xo + i]
      o[oo + i] = 0.5 * v * (1 + Math.tanh(GELU_SCALE * (v + 0.044715 * v * v * v)))
    }
  }

  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor): void {
    this.op()
    const [d, dof] = this.f(dinp); const [x, xo] = this.f(inp); const [g, go] = this.f(dout)
    for (let i = 0; i < dinp.length; i++) {
      const v = x[xo + i]
      const th = Math.tanh(GELU_SCALE * (v + 0.044715 * v * v * v))
      const sech2 = 1 - th * th
      const local = 0.5 * (1 + th) + 0.5 * v * sech2 * GELU_SCALE * (1 + 3 * 0.044715 * v * v)
      d[dof + i] = local * g[go + i]
    }
  }

  // ---- linear algebra ---------------------------------------------------------------------
  matmul({ out, a, b, bias, M, N, K, transA = false, transB = false, accumulate = false }: MatmulArgs): void {
    this.op()
    const [o, oo] = this.f(out); const [A, ao] = this.f(a); const [Bm, bo] = this.f(b)
    const bi = bias ? this.f(bias) : null
    const aS = transA ? [1, M] : [K, 1] // [stride m, stride k]
    const bS = transB ? [K, 1] : [1, N] // [stride n, stride k]
    if (transB && !transA) {
      // x·Wᵀ: both operands are contiguous along k, so each output is one streaming dot product
      for (let m = 0; m < M; m++) {
        const ar = ao + m * K
        for (let n = 0; n < N; n++) {
          const br = bo + n * K
          let s0 = 0; let s1 = 0; let k = 0
          for (; k + 1 < K; k += 2) { s0 += A[ar + k] * Bm[br + k]; s1 += A[ar + k + 1] * Bm[br + k + 1] }
          if (k < K) s0 += A[ar + k] * Bm[br + k]
          let v = s0 + s1
          if (bi) v += bi[0][bi[1] + n]
          if (accumulate) v += o[oo + m * N + n]
          o[oo + m * N + n] = v
        }
      }
      return
    }
    const row = new Float64Array(N)
    for (let m = 0; m < M; m++) {
      row.fill(0)
      for (let k = 0; k < K; k++) {
        const av = A[ao + m * aS[0] + k * aS[1]]
        if (av === 0) continue
        const bk = bo + k * bS[1]
        for (let n = 0; n < N; n++) row[n] += av * Bm[bk + n * bS[0]]
      }
      const base = oo + m * N
      for (let n = 0; n < N; n++) {
        let v = row[n]
        if (bi) v += bi[0][bi[1] + n]
        if (accumulate) v += o[base + n]
        o[base + n] = v
      }
    }
  }

  biasGrad(dbias: Tensor, dout: Tensor, M: number, N: number, accumulate: boolean): void {
    this.op()
    const [d, dof] = this.f(dbias); const [g, go] = this.f(dout)
    for (let n = 0; n < N; n++) {
      let s = 0
      for (let m = 0; m < M; m++) s += g[go + m * N + n]
      d[dof + n] = accumulate ? d[dof + n] + s : s
    }
  }

  // ---- layers -----------------------------------------------------------------------------
  embeddingForward(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void {
    this.op()
    const [o, oo] = this.f(out); const [tk, to] = this.u(tokens)
    const [we, weo] = this.f(wte); const [pe, peo] = this.f(wpe)
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const id = tk[to + b * T + t]
      const dst = oo + (b * T + t) * C
      for (let c = 0; c < C; c++) o[dst + c] = we[weo + id * C + c] + pe[peo + t * C + c]
    }
  }

  embeddingBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, tokens: Tensor,
    B: number, T: number, C: number, V: number, accumulate: boolean): void {
    this.op()
    const [dte, dteo] = this.f(dwte); const [dpe, dpeo] = this.f(dwpe)
    const [g, go] = this.f(dout); const [tk, to] = this.u(tokens)
    for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) {
      let s = 0
      for (let i = 0; i < B * T; i++) if (tk[to + i] === v) s += g[go + i * C + c]
      const idx = dteo + v * C + c
      dte[idx] = accumulate ? dte[idx] + s : s
    }
    const rows = dwpe.length / C
    for (let t = 0; t < rows; t++) for (let c = 0; c < C; c++) {
      let s = 0
      if (t < T) for (let b = 0; b < B; b++) s += g[go + (b * T + t) * C + c]
      const idx = dpeo + t * C + c
      dpe[idx] = accumulate ? dpe[idx] + s : s
    }
  }

  embeddingForwardAt(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor,
    N: number, maxLen: number, pos: number, C: number): void {
    this.op()
    const [o, oo] = this.f(out); const [tk, to] = this.u(tokens)
    const [we, weo] = this.f(wte); const [pe, peo] = this.f(wpe)
    for (let n = 0; n < N; n++) {
      const id = tk[to + n * maxLen + pos]
      for (let c = 0; c < C; c++) o[oo + n * C + c] = we[weo + id * C + c] + pe[peo + pos * C + c]
    }
  }

  layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor,
    rows: number, C: number): void {
    this.op()
    const [o, oo] = this.f(out); const [mu, muo] = this.f(mean); const [rs, rso] = this.f(rstd)
    const [x, xo] = this.f(inp); const [w, wo] = this.f(weight); const [bb, bo] = this.f(bias)
    for (let r = 0; r < rows; r++) {
      const base = xo + r * C
      let m = 0
      for (let c = 0; c < C; c++) m += x[base + c]
      m /= C
      let v = 0
      for (let c = 0; c < C; c++) { const d = x[base + c] - m; v += d * d }
      v /= C
      const s = 1 / Math.sqrt(v + LAYERNORM_EPS)
      for (let c = 0; c < C; c++) o[oo + r * C + c] = (x[base + c] - m) * s * w[wo + c] + bb[bo + c]
      mu[muo + r] = m
      rs[rso + r] = s
    }
  }

  layernormBackward(dinp: Tensor, dweight: Tensor, dbias: Tensor, dout: Tensor, inp: Tensor, weight: Tensor,
    mean: Tensor, rstd: Tensor, rows: number, C: number, accumulate: boolean): void {
    this.op()
    const [dx, dxo] = this.f(dinp); const [dw, dwo] = this.f(dweight); const [db, dbo] = this.f(dbias)
    const [g, go] = this.f(dout); const [x, xo] = this.f(inp); const [w, wo] = this.f(weight)
    const [mu, muo] = this.f(mean); const [rs, rso] = this.f(rstd)
    for (let r = 0; r < rows; r++) {
      const m = mu[muo + r]; const s = rs[rso + r]
      let dnormMean = 0; let dnormNormMean = 0
      for (let c = 0; c < C; c++) {
        const norm = (x[xo + r * C + c] - m) * s
        const dnorm = w[wo + c] * g[go + r * C + c]
        dnormMean += dnorm; dnormNormMean += dnorm * norm
      }
      dnormMean /= C; dnormNormMean /= C
      for (let c = 0; c < C; c++) {
        const norm = (x[xo + r * C + c] - m) * s
        const dnorm = w[wo + c] * g[go + r * C + c]
        dx[dxo + r * C + c] += (dnorm - dnormMean - norm * dnormNormMean) * s
      }
    }
    for (let c = 0; c < C; c++) {
      let sw = 0; let sb = 0
      for (let r = 0; r < rows; r++) {
        const gv = g[go + r * C + c]
        sw += gv * (x[xo + r * C + c] - mu[muo + r]) * rs[rso + r]
        sb += gv
      }
      dw[dwo + c] = accumulate ? dw[dwo + c] + sw : sw
      db[dbo + c] = accumulate ? db[dbo + c] + sb : sb
    }
  }

  attentionForward(out: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    this.op()
    const [o, oo] = this.f(out); const [a, ao] = this.f(att); const [q, qo] = this.f(qkv)
    const hs = C / NH; const scale = 1 / Math.sqrt(hs); const C3 = 3 * C
    const w = new Float64Array(T)
    for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) for (let t = 0; t < T; t++) {
      const qb = qo + (b * T + t) * C3 + h * hs
      let max = -Infinity
      for (let t2 = 0; t2 <= t; t2++) {
        const kb = qo + (b * T + t2) * C3 + C + h * hs
        let dot = 0
        for (let i = 0; i < hs; i++) dot += q[qb + i] * q[kb + i]
        w[t2] = dot * scale
        if (w[t2] > max) max = w[t2]
      }
      let sum = 0
      for (let t2 = 0; t2 <= t; t2++) { w[t2] = Math.exp(w[t2] - max); sum += w[t2] }
      const arow = ao + ((b * NH + h) * T + t) * T
      for (let t2 = 0; t2 < T; t2++) a[arow + t2] = t2 <= t ? w[t2] / sum : 0
      const ob = oo + (b * T + t) * C + h * hs
      for (let i = 0; i < hs; i++) {
        let s = 0
        for (let t2 = 0; t2 <= t; t2++) s += a[arow + t2] * q[qo + (b * T + t2) * C3 + 2 * C + h * hs + i]
        o[ob + i] = s
      }
    }
  }

  attentionBackward(dqkv: Tensor, datt: Tensor, dout: Tensor, qkv: Tensor, att: Tensor,
    B: number, T: number, C: number, NH: number): void {
    this.op()
    const [dq, dqo] = this.f(dqkv); const [da, dao] = this.f(datt); const [g, go] = this.f(dout)
    const [q, qo] = this.f(qkv); const [a, ao] = this.f(att)
    const hs = C / NH; const scale = 1 / Math.sqrt(hs); const C3 = 3 * C
    // pass 1, one (b, h, t) at a time: softmax backward into datt (pre-softmax, scaled), then dq
    for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) for (let t = 0; t < T; t++) {
      const row = ((b * NH + h) * T + t) * T
      const gb = go + (b * T + t) * C + h * hs
      let s = 0
      for (let t2 = 0; t2 <= t; t2++) {
        const vb = qo + (b * T + t2) * C3 + 2 * C + h * hs
        let dot = 0
        for (let i = 0; i < hs; i++) dot += g[gb + i] * q[vb + i]
        da[dao + row + t2] = dot
        s += a[ao + row + t2] * dot
      }
      for (let t2 = 0; t2 < T; t2++) {
        da[dao + row + t2] = t2 <= t ? a[ao + row + t2] * (da[dao + row + t2] - s) * scale : 0
      }
      const dqb = dqo + (b * T + t) * C3 + h * hs
      for (let i = 0; i < hs; i++) {
        let acc = 0
        for (let t2 = 0; t2 <= t; t2++) acc += da[dao + row + t2] * q[qo + (b * T + t2) * C3 + C + h * hs + i]
        dq[dqb + i] = acc
      }
    }
    // pass 2, one (b, h, t2) at a time: gather dk and dv over the queries that saw t2
    for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) for (let t2 = 0; t2 < T; t2++) {
      const dkb = dqo + (b * T + t2) * C3 + C + h * hs
      const dvb = dkb + C
      for (let i = 0; i < hs; i++) {
        let dk = 0; let dv = 0
        for (let t = t2; t < T; t++) {
          const row = ((b * NH + h) * T + t) * T
          dk += da[dao + row + t2] * q[qo + (b * T + t) * C3 + h * hs + i]
          dv += a[ao + row + t2] * g[go + (b * T + t) * C + h * hs + i]
        }
        dq[dkb + i] = dk
        dq[dvb + i] = dv
      }
    }
  }

  attentionDecode(out: Tensor, qkv: Tensor, kCache: Tensor, vCache: Tensor,
    N: number, C: number, NH: number, maxLen: number, pos: number): void {
    this.op()
    const [o, oo] = this.f(out); const [q, qo] = this.f(qkv)
    const [kc, kco] = this.f(kCache); const [vc, vco] = this.f(vCache)
    const hs = C / NH; const scale = 1 / Math.sqrt(hs)
    const w = new Float64Array(pos + 1)
    for (let n = 0; n < N; n++) for (let h = 0; h < NH; h++) {
      const cache = ((n * NH + h) * maxLen) * hs
      const qb = qo + n * 3 * C + h * hs
      for (let i = 0; i < hs; i++) {
        kc[kco + cache + pos * hs + i] = q[qb + C + i]
        vc[vco + cache + pos * hs + i] = q[qb + 2 * C + i]
      }
      let max = -Infinity
      for (let t2 = 0; t2 <= pos; t2++) {
        let dot = 0
        for (let i = 0; i < hs; i++) dot += q[qb + i] * kc[kco + cache + t2 * hs + i]
        w[t2] = dot * scale
        if (w[t2] > max) max = w[t2]
      }
      let sum = 0
      for (let t2 = 0; t2 <= pos; t2++) { w[t2] = Math.exp(w[t2] - max); sum += w[t2] }
      for (let i = 0; i < hs; i++) {
        let s = 0
        for (let t2 = 0; t2 <= pos; t2++) s += (w[t2] / sum) * vc[vco + cache + t2 * hs + i]
        o[oo + n * C + h * hs + i] = s
      }
    }
  }

  /** z = logits · invT: the row's max, Σ exp(z − max) and Σ exp(z − max)·(z − max), in index order. */
  private temperedRow(l: FloatArray, base: number, V: number, invT: number): { max: number; sum: number; logZ: number; entropy: number } {
    let max = -Infinity
    for (let v = 0; v < V; v++) { const z = l[base + v] * invT; if (z > max) max = z }
    let sum = 0; let weighted = 0
    for (let v = 0; v < V; v++) { const z = l[base + v] * invT - max; const e = Math.exp(z); sum += e; weighted += e * z }
    const logZ = Math.log(sum)
    return { max, sum, logZ, entropy: logZ - weighted / sum }
  }

  logprobForward(logp: Tensor, entropy: Tensor, logits: Tensor, targets: Tensor, rows: number, V: number, invTemperature = 1): void {
    this.op()
    const [lp, lpo] = this.f(logp); const [en, eno] = this.f(entropy)
    const [l, lo] = this.f(logits); const [tg, tgo] = this.u(targets)
    for (let r = 0; r < rows; r++) {
      const base = lo + r * V
      const { max, logZ, entropy: h } = this.temperedRow(l, base, V, invTemperature)
      lp[lpo + r] = l[base + tg[tgo + r]] * invTemperature - max - logZ
      en[eno + r] = h
    }
  }

  logprobBackward(dlogits: Tensor, logits: Tensor, targets: Tensor, dlogp: Tensor, rows: number, V: number,
    invTemperature = 1, dentropy?: Tensor): void {
    this.op()
    const [d, dof] = this.f(dlogits); const [l, lo] = this.f(logits)
    const [tg, tgo] = this.u(targets); const [g, go] = this.f(dlogp)
    const de = dentropy ? this.f(dentropy) : null
    for (let r = 0; r < rows; r++) {
      const base = lo + r * V
      const { max, sum, logZ, entropy: h } = this.temperedRow(l, base, V, invTemperature)
      const gr = g[go + r]; const ge = de ? de[0][de[1] + r] : 0; const target = tg[tgo + r]
      for (let v = 0; v < V; v++) {
        const z = l[base + v] * invTemperature - max
        const p = Math.exp(z) / sum
        const dz = gr * ((v === target ? 1 : 0) - p) - ge * p * (z - logZ + h)
        d[dof + r * V + v] = invTemperature * dz
      }
    }
  }

  // ---- GRPO --------------------------------------------------------------------------------
  advantages(a: AdvantageArgs): void {
    this.op()
    const [r, ro] = this.f(a.rewards); const [adv, ao] = this.f(a.advantages)
    const [sd, so] = this.f(a.std); const [z, zo] = this.f(a.zeroStdGroups)
    const { numGroups, G } = a
    const sampleStd = (start: number, n: number) => {
      let mean = 0
      for (let i = 0; i < n; i++) mean += r[ro + start + i]
      mean /= n
      let ss = 0
      for (let i = 0; i < n; i++) { const d = r[ro + start + i] - mean; ss += d * d }
      return Math.sqrt(ss / (n - 1))
    }
    if (a.aggregation === 'normalize_then_sum') return this.advantagesNormalizeThenSum(a)
    const batchStd = a.scale === 'batch' ? sampleStd(0, numGroups * G) : 0
    for (let g = 0; g < numGroups; g++) {
      const start = g * G
      let mean = 0
      for (let i = 0; i < G; i++) mean += r[ro + start + i]
      mean /= G
      const groupStd = sampleStd(start, G)
      const std = a.scale === 'batch' ? batchStd : groupStd
      z[zo + g] = groupStd <= 1e-8 ? 1 : 0 // torch.isclose(std, 0)
      for (let i = 0; i < G; i++) {
        const d = r[ro + start + i] - mean
        adv[ao + start + i] = a.scale === 'none' ? d : d / (std + 1e-4)
        sd[so + start + i] = std
      }
    }
  }

  /** GDPO: each function's scores normalised per group, weighted, summed, then normalised over the batch. */
  private advantagesNormalizeThenSum(a: AdvantageArgs): void {
    if (!a.rewardsPerFunc || !a.rewardWeights || !a.K) throw new Error('advantages: normalize_then_sum needs rewardsPerFunc, rewardWeights and K')
    const [r, ro] = this.f(a.rewardsPerFunc); const [rw, rwo] = this.f(a.rewardWeights)
    const [adv, ao] = this.f(a.advantages); const [sd, so] = this.f(a.std); const [z, zo] = this.f(a.zeroStdGroups)
    const { numGroups, G, K } = a
    const n = numGroups * G
    const meanStd = (xs: number[]) => {
      const mean = xs.reduce((x, y) => x + y, 0) / xs.length
      return [mean, Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1))]
    }
    const summed = Array.from({ length: n }, (_, i) => {
      const start = Math.floor(i / G) * G
      let total = 0
      for (let k = 0; k < K; k++) {
        const [mean, std] = meanStd(Array.from({ length: G }, (_, j) => r[ro + (start + j) * K + k]))
        total += rw[rwo + k] * (r[ro + i * K + k] - mean) / (std + 1e-4)
      }
      return total
    })
    const [mean, std] = meanStd(summed)
    for (let i = 0; i < n; i++) { adv[ao + i] = (summed[i] - mean) / (std + 1e-4); sd[so + i] = std }
    for (let g = 0; g < numGroups; g++) z[zo + g] = std <= 1e-8 ? 1 : 0
  }

  grpoLoss(a: GrpoLossArgs): void {
    const o: GrpoObjective = { ...DEFAULT_GRPO_OBJECTIVE, ...a.objective }
    // as many dispatches as shaders/grpo_loss.wgsl takes, so that counters agree across backends
    for (let k = 0; k < grpoLossDispatches(o); k++) this.op()
    const [lp, lpo] = this.f(a.logp); const [old, oldo] = this.f(a.oldLogp); const [ref, refo] = this.f(a.refLogp)
    const [ent, ento] = this.f(a.entropy); const [m, mo] = this.f(a.mask)
    const [adv, ao] = this.f(a.advantages); const [w, wo] = this.f(a.weights)
    const [d, dof] = this.f(a.dlogp); const [tt, tto] = this.f(a.tokenTerms); const [st, sto] = this.f(a.stats)
    const { N, T, epsilonLow: eL, epsilonHigh: eH, beta } = a
    const n = N * T
    const A = (i: number) => adv[ao + (a.seqOffset ?? 0) + i]

    // ---- the entropy mask: tokens at or above the (1 − q) quantile of the masked entropies ----
    let threshold = -Infinity
    if (o.topEntropyQuantile < 1) {
      const sorted: number[] = []
      for (let i = 0; i < n; i++) if (m[mo + i] !== 0) sorted.push(ent[ento + i])
      sorted.sort((x, y) => x - y)
      threshold = sorted.length ? torchQuantile(sorted, 1 - o.topEntropyQuantile) : Infinity
    }
    const kept = (i: number) => (m[mo + i] !== 0 && ent[ento + i] * m[mo + i] >= threshold ? 1 : 0)

    // ---- per sequence: token count, importance log-weight, VESPO's φ, the sequence-level gradient ----
    const seq = Array.from({ length: N }, (_, i) => {
      let cnt = 0; let lrSum = 0; let clampedSum = 0; let keptCnt = 0; let klSum = 0
      for (let t = 0; t < T; t++) {
        const k = i * T + t; const mk = m[mo + k]
        const lr = lp[lpo + k] - old[oldo + k]
        cnt += mk; lrSum += lr * mk; clampedSum += Math.min(Math.max(lr, -20), 20) * mk; keptCnt += mk * kept(k)
        klSum += mk * k3(ref[refo + k] - lp[lpo + k])
      }
      const logIW = lrSum / Math.max(1, cnt)
      const phi = vespoPhi(A(i), clampedSum, o)
      // sequence level: ρ_i = exp(mean log-ratio), so ∂ρ_i/∂logp_t = ρ_i · mask_t / |o_i|; the
      // bias-corrected KL (β·kl·ρ_i on each token) reaches every token of the sequence through ρ_i
      const c1 = Math.exp(logIW)
      const throughRatio = keptCnt * ratioGrad(c1, A(i), eL, eH, o) + (o.klBiasCorrection ? beta * klSum * c1 : 0)
      const gseq = o.sequenceLevel ? w[wo + i] * throughRatio / Math.max(1, cnt) : 0
      return { cnt, logIW, phi, gseq }
    })

    // ---- per token: objective, KL, clip code, dL/dlogp ----
    for (let i = 0; i < n; i++) {
      const sq = Math.floor(i / T); const Ai = A(sq); const wi = w[wo + sq]; const mi = m[mo + i]; const em = kept(i)
      const lr = lp[lpo + i] - old[oldo + i]
      const c1 = Math.exp(o.sequenceLevel ? seq[sq].logIW : lr)
      const diff = ref[refo + i] - lp[lpo + i]
      const rawKl = k3(diff)
      const kl = o.klBiasCorrection ? rawKl * c1 : rawKl
      const tokenLoss = perTokenLoss(c1, Ai, lp[lpo + i], seq[sq].phi, eL, eH, o)
      let grad = em * directGrad(c1, Ai, seq[sq].phi, eH, o) + (o.sequenceLevel ? 0 : em * ratioGrad(c1, Ai, eL, eH, o))
      if (beta !== 0) {
        const dkl = 1 - Math.exp(diff)
        // ∂(kl·ρ)/∂logp = ρ·∂kl/∂logp + kl·ρ at token level (sequence level: ρ's part is in gseq)
        grad += beta * (o.klBiasCorrection ? c1 * dkl + (o.sequenceLevel ? 0 : rawKl * c1) : dkl)
      }
      d[dof + i] = mi * (wi * grad + seq[sq].gseq)
      // shown for every token, masked or not; only the entropy mask (when on) zeroes a token's objective
      tt[tto + i] = -(o.topEntropyQuantile < 1 ? em : 1) * tokenLoss; tt[tto + n + i] = kl; tt[tto + 2 * n + i] = clipCode(c1, Ai, eL, eH, o)
    }

    // ---- the entropy bonus over the kept tokens, and its gradient ----
    let keptTotal = 0; let keptEntropy = 0
    for (let i = 0; i < n; i++) { const e = m[mo + i] * kept(i); keptTotal += e; keptEntropy += e * ent[ento + i] }
    const bonusEntropy = keptEntropy / Math.max(1, keptTotal)
    if (o.entropyCoef !== 0) {
      if (!a.dentropy) throw new Error('grpoLoss: entropyCoef ≠ 0 needs a dentropy tensor')
      const [de, deo] = this.f(a.dentropy)
      for (let i = 0; i < n; i++) de[deo + i] = -o.entropyCoef * m[mo + i] * kept(i) / (Math.max(1, keptTotal) * o.gradientAccumulationSteps)
    }

    // ---- statistics, summed per sequence in order ----
    const s = new Float64Array(GRPO_STATS)
    s[GrpoStat.ratioMin] = BIG; s[GrpoStat.ratioMax] = -BIG; s[GrpoStat.clipLowMin] = BIG; s[GrpoStat.clipHighMax] = -BIG
    for (let sq = 0; sq < N; sq++) {
      const wi = w[wo + sq]; let low = 0; let high = 0
      for (let t = 0; t < T; t++) {
        const i = sq * T + t; const mi = m[mo + i]
        if (mi === 0) continue
        const code = tt[tto + 2 * n + i]; const kl = tt[tto + n + i]
        s[GrpoStat.policyLoss] += mi * wi * (-tt[tto + i] + beta * kl)
        s[GrpoStat.count] += mi
        s[GrpoStat.kl] += mi * kl
        s[GrpoStat.entropy] += mi * ent[ento + i]
        if (code < 0) low += mi
        if (code > 0) high += mi
        const ratio = Math.exp(lp[lpo + i] - old[oldo + i])
        s[GrpoStat.ratioMin] = Math.min(s[GrpoStat.ratioMin], ratio)
        s[GrpoStat.ratioMax] = Math.max(s[GrpoStat.ratioMax], ratio)
      }
      if (o.sequenceLevel) { // one flag per sequence, counted over all sequences
        const code = clipCode(Math.exp(seq[sq].logIW), A(sq), eL, eH, o)
        low = code < 0 ? 1 : 0; high = code > 0 ? 1 : 0
      }
      const denominator = o.sequenceLevel ? 1 : seq[sq].cnt
      const isCispo = o.kind === 'cispo'
      s[isCispo ? GrpoStat.cispoClip : GrpoStat.clipHigh] += high
      if (!isCispo) { s[GrpoStat.clipLow] += low; s[GrpoStat.clipRegion] += low + high }
      s[GrpoStat.clipCount] += denominator
      if (denominator > 0 && !isCispo) {
        s[GrpoStat.clipLowMin] = Math.min(s[GrpoStat.clipLowMin], low / denominator)
        s[GrpoStat.clipHighMax] = Math.max(s[GrpoStat.clipHighMax], high / denominator)
      }
      s[GrpoStat.phiSum] += seq[sq].phi
      s[GrpoStat.sequences] += 1
    }
    s[GrpoStat.bonusEntropy] = bonusEntropy
    s[GrpoStat.loss] = s[GrpoStat.policyLoss] - o.entropyCoef * bonusEntropy / o.gradientAccumulationSteps
    for (let k = 0; k < GRPO_STATS; k++) st[sto + k] = s[k]
  }

  // ---- optimisation and sampling ----------------------------------------------------------
  adamw(args: AdamWArgs): void {
    this.op()
    const { lr, beta1, beta2, eps, weightDecay, step, maxGradNorm, decayEnd } = args
    const [p, po] = this.f(args.params); const [g, go] = this.f(args.grads)
    const [m, mo] = this.f(args.m); const [v, vo] = this.f(args.v); const [gn, gno] = this.f(args.gradNorm)
    const n = args.params.length
    let sq = 0
    for (let i = 0; i < n; i++) sq += g[go + i] * g[go + i]
    const norm = Math.sqrt(sq)
    gn[gno] = norm
    const clip = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (norm + 1e-6)) : 1
    const bc1 = 1 - Math.pow(beta1, step); const bc2 = 1 - Math.pow(beta2, step)
    for (let i = 0; i < n; i++) {
      const gi = g[go + i] * clip
      const mi = beta1 * m[mo + i] + (1 - beta1) * gi
      const vi = beta2 * v[vo + i] + (1 - beta2) * gi * gi
      m[mo + i] = mi; v[vo + i] = vi
      const decay = i < decayEnd ? weightDecay * p[po + i] : 0
      p[po + i] -= lr * ((mi / bc1) / (Math.sqrt(vi / bc2) + eps) + decay)
    }
  }

  /** The twin of shaders/decode.wgsl, made of this backend's own ops in the kernel's order
   *  (embedding, per layer LN → qkv → attention with the cache → projection + residual → LN →
   *  MLP + residual, final LN, LM head, sampling); counted as one dispatch, as on WebGPU. */
  decodePositions(a: DecodeArgs): void {
    const dispatches = this.counters.dispatches
    const { N, V, C, NH, L, maxLen } = a
    const S = decodeScratchLayout(N, C, V, NH, maxLen)
    const act = (off: number, len: number) => view(a.scratch.buffer, a.scratch.offset + off, len)
    const P = (i: number) => view(a.params.buffer, a.params.offset + a.offsetList[i], a.params.length - a.offsetList[i])
    const x = act(S.x, N * C); const ln = act(S.ln, N * C); const qkv = act(S.qkv, 3 * N * C)
    const atty = act(S.atty, N * C); const res = act(S.res, N * C); const fch = act(S.fch, 4 * N * C)
    const logits = act(S.logits, N * V); const mean = act(S.mean, N); const rstd = act(S.rstd, N)
    const proj = this.createBuffer(N * 4 * C, 'f32', 'decode.cpu_tmp')
    const tmp = view(proj, 0, N * C); const tmp4 = view(proj, 0, N * 4 * C)
    const cacheOf = (c: Tensor, l: number) => view(c.buffer, c.offset + l * N * C * maxLen, N * C * maxLen)
    for (let pos = a.posBegin; pos < a.posEnd; pos++) {
      this.embeddingForwardAt(x, a.tokens, P(0), P(1), N, maxLen, pos, C)
      for (let l = 0; l < L; l++) {
        const o = DECODE_GLOBAL_PARAMS + l * DECODE_LAYER_PARAMS
        this.layernormForward(ln, mean, rstd, x, P(o), P(o + 1), N, C)
        this.matmul({ out: qkv, a: ln, b: P(o + 2), bias: P(o + 3), M: N, N: 3 * C, K: C, transB: true })
        this.attentionDecode(atty, qkv, cacheOf(a.kCache, l), cacheOf(a.vCache, l), N, C, NH, maxLen, pos)
        this.matmul({ out: tmp, a: atty, b: P(o + 4), bias: P(o + 5), M: N, N: C, K: C, transB: true })
        this.add(res, x, tmp)
        this.layernormForward(ln, mean, rstd, res, P(o + 6), P(o + 7), N, C)
        this.matmul({ out: tmp4, a: ln, b: P(o + 8), bias: P(o + 9), M: N, N: 4 * C, K: C, transB: true })
        this.geluForward(fch, tmp4)
        this.matmul({ out: tmp, a: fch, b: P(o + 10), bias: P(o + 11), M: N, N: C, K: 4 * C, transB: true })
        this.add(x, res, tmp)
      }
      this.layernormForward(ln, mean, rstd, x, P(2), P(3), N, C)
      this.matmul({ out: logits, a: ln, b: P(4), M: N, N: V, K: C, transB: true })
      this.sample({ ...a, logits, pos })
    }
    this.destroyBuffer(proj)
    this.counters.dispatches = dispatches + 1
  }

  sample(args: SampleArgs): void {
    this.op()
    const { N, V, maxLen, pos, maxNew, temperature, topK, eosId, seed, stream } = args
    const [tk, tko] = this.u(args.tokens); const [l, lo] = this.f(args.logits)
    const [pl, plo] = this.u(args.promptLens); const [dn, dno] = this.u(args.done)
    const f32 = Math.fround
    for (let n = 0; n < N; n++) {
      const next = pos + 1
      const plen = pl[plo + n]
      if (next >= maxLen || next < plen) continue // prompt tokens stay as they are
      const slot = tko + n * maxLen + next
      if (dn[dno + n] !== 0 || next >= plen + maxNew) { tk[slot] = eosId; continue }
      const id = sampleRow(l, lo + n * V, V, temperature, topK, uniform(seed, stream, next, n), f32)
      tk[slot] = id
      if (id === eosId) dn[dno + n] = 1
    }
  }
}

/** Temperature + top-k sampling of one row by the inverse CDF, in float32 like the kernel. */
export function sampleRow(l: ArrayLike<number>, base: number, V: number, temperature: number, topK: number,
  u: number, f32: (x: number) => number = Math.fround): number {
  let max = -Infinity; let argmax = 0
  for (let v = 0; v < V; v++) if (l[base + v] > max) { max = l[base + v]; argmax = v }
  if (temperature <= 0) return argmax
  const kept = (v: number): boolean => {
    if (topK <= 0 || topK >= V) return true
    let greater = 0
    for (let w = 0; w < V; w++) if (l[base + w] > l[base + v]) greater++
    return greater < topK
  }
  const invT = f32(1 / temperature)
  let total = 0
  for (let v = 0; v < V; v++) if (kept(v)) total = f32(total + f32(Math.exp(f32(f32(l[base + v] - max) * invT))))
  const target = f32(u * total)
  let cum = 0; let last = argmax
  for (let v = 0; v < V; v++) {
    if (!kept(v)) continue
    cum = f32(cum + f32(Math.exp(f32(f32(l[base + v] - max) * invT))))
    last = v
    if (target < cum) return v
  }
  return last
}
