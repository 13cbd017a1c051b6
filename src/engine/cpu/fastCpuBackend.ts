// The fast CPU backend: the reference CpuBackend with its hot kernels replaced by WebAssembly
// SIMD ones (assembly/kernels.ts) that run on several threads over one shared memory
// (wasmKernels.ts). Every buffer lives in that memory, so the kernels run without copies, and
// the ops left to the reference (GRPO loss and advantages, sampling, fill) work on the same
// arrays. Float32 only; the reference stays the float64 ground of the gradient checks.
//
// Same run ⇒ same numbers, bit for bit, whatever the number of threads: each kernel is split
// into parts by output, and no output's arithmetic depends on the part it falls in.

import type { AdamWArgs, AdapterDescription, Buffer, DecodeArgs, DType, MatmulArgs, Tensor } from '../backend'
import { DECODE_GLOBAL_PARAMS, DECODE_LAYER_PARAMS } from '../backend'
import { countAllocation } from '../counters'
import { CpuBackend, type CpuBuffer } from './cpuBackend'
import { MAX_PARTS, type WasmKernels } from './wasmKernels'

class WasmBuffer implements CpuBuffer {
  private view: Float32Array | Uint32Array | null = null
  private generation = -1
  alive = true
  constructor(readonly id: number, readonly dtype: DType, readonly length: number, readonly label: string,
    readonly address: number, private readonly k: WasmKernels) {}

  /** A view of the memory (remade after it grew: an unshared memory detaches the old one). */
  get data(): Float32Array | Uint32Array {
    if (!this.alive) throw new Error(`buffer '${this.label}' was used after destroyBuffer`)
    if (this.generation !== this.k.generation || !this.view) {
      this.view = this.dtype === 'u32' ? new Uint32Array(this.k.memory.buffer, this.address, this.length)
        : new Float32Array(this.k.memory.buffer, this.address, this.length)
      this.generation = this.k.generation
    }
    return this.view
  }
}

/** Kernel numbers, as the module exports them. */
const KERNELS = ['MATMUL', 'PACK', 'BIAS_GRAD', 'LAYERNORM_FORWARD', 'LAYERNORM_BACKWARD', 'ATTENTION_FORWARD',
  'ATTENTION_BACKWARD', 'ATTENTION_DECODE', 'GELU_FORWARD', 'GELU_BACKWARD', 'LOGPROB_FORWARD', 'LOGPROB_BACKWARD',
  'EMBEDDING_FORWARD', 'EMBEDDING_BACKWARD', 'EMBEDDING_AT', 'SUMSQ', 'ADAMW', 'ADD', 'DECODE'] as const
type KernelName = typeof KERNELS[number]

/** The least work (≈ multiply-adds) worth a part of its own: below it, waking a thread costs more. */
const MIN_WORK = 40_000
/** parts per thread: a thread slowed by another job on the machine is helped by the others */
const PARTS_PER_THREAD = 3
/** a B matrix this small is packed by the calling thread alone */
const PACK_ALONE = 1 << 16

export interface FastCpuInfo {
  /** why fewer threads than cores run (e.g. a page that is not cross-origin isolated) */
  note?: string
}

export class FastCpuBackend extends CpuBackend {
  private readonly K: Record<KernelName, number>
  private readonly sumsqChunk: number
  private readonly matmulKB: number
  private nextBufferId = 1
  private packAddress = 0
  private packBytes = 0

  constructor(readonly kernels: WasmKernels, private readonly info: FastCpuInfo = {}) {
    super('f32')
    const ex = kernels.exports
    const value = (name: string) => {
      const g = ex[name] as WebAssembly.Global | undefined
      if (!g) throw new Error(`the fast CPU kernels lack ${name}: rebuild them (node scripts/build-wasm.mjs)`)
      return g.value as number
    }
    this.K = Object.fromEntries(KERNELS.map((k) => [k, value(`K_${k}`)])) as Record<KernelName, number>
    this.sumsqChunk = value('SUMSQ_CHUNK')
    this.matmulKB = value('MATMUL_KB')
  }

  get threads(): number { return this.kernels.threads }

  override describe(): AdapterDescription {
    const t = this.kernels.threads
    const simd = `WebAssembly SIMD${this.kernels.relaxed ? ' + relaxed FMA' : ''}`
    const threads = `${t} thread${t === 1 ? '' : 's'}`
    return {
      backend: 'cpu', vendor: 'cpu', architecture: `wasm-simd128${this.kernels.relaxed ? '+relaxed' : ''}, ${threads}`,
      device: 'fast CPU backend',
      description: `CPU backend (${simd}, ${threads}${this.info.note ? `: ${this.info.note}` : ''})`,
    }
  }

  // ---- memory ---------------------------------------------------------------------------------
  override createBuffer(length: number, dtype: DType, label: string): Buffer {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`createBuffer '${label}': length ${length}`)
    const address = this.kernels.alloc(length * 4)
    const buf = new WasmBuffer(this.nextBufferId++, dtype, length, label, address, this.kernels)
    countAllocation(this.counters, length * 4, 1)
    return buf
  }

  override destroyBuffer(buffer: Buffer): void {
    const b = buffer as WasmBuffer
    if (!b.alive) return
    b.alive = false
    this.kernels.release(b.address)
    countAllocation(this.counters, b.length * 4, -1)
  }

  override write(target: Tensor, data: ArrayLike<number>): void {
    if (data.length > target.length) throw new RangeError(`write of ${data.length} into '${target.buffer.label}' view of ${target.length}`)
    const arr = (target.buffer as WasmBuffer).data
    if (ArrayBuffer.isView(data) || Array.isArray(data)) arr.set(data as ArrayLike<number>, target.offset)
    else for (let i = 0; i < data.length; i++) arr[target.offset + i] = data[i]
    this.counters.bytesUp += data.length * 4
  }

  override copy(out: Tensor, src: Tensor): void {
    this.op()
    const s = (src.buffer as WasmBuffer).data
    ;(out.buffer as WasmBuffer).data.set(s.subarray(src.offset, src.offset + out.length), out.offset)
  }

  override destroy(): void { this.kernels.destroy() }

  /** The byte address of a tensor's first element. */
  private at(t: Tensor): number {
    const b = t.buffer as WasmBuffer
    if (!b.alive) throw new Error(`buffer '${b.label}' was used after destroyBuffer`)
    return b.address + t.offset * 4
  }

  /** Parts for `units` independent outputs of `work` each. */
  private parts(units: number, work: number): number {
    const t = this.kernels.threads
    if (t === 1 || units <= 1) return 1
    return Math.max(1, Math.min(units, PARTS_PER_THREAD * t, Math.floor(units * work / MIN_WORK), MAX_PARTS))
  }

  private run(kernel: KernelName, parts: number, args: number[]): void {
    this.kernels.run(this.K[kernel], parts, args)
  }

  // ---- elementwise ------------------------------------------------------------------------
  override add(out: Tensor, a: Tensor, b: Tensor): void {
    this.op()
    const n = out.length
    const blocks = Math.ceil(n / 4096)
    this.run('ADD', this.parts(blocks, 4096), [this.at(out), this.at(a), this.at(b), n])
  }

  override geluForward(out: Tensor, inp: Tensor): void {
    this.op()
    const n = out.length
    this.run('GELU_FORWARD', this.parts(Math.ceil(n / 4096), 4096 * 8), [this.at(out), this.at(inp), n])
  }

  override geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor): void {
    this.op()
    const n = dinp.length
    this.run('GELU_BACKWARD', this.parts(Math.ceil(n / 4096), 4096 * 10), [this.at(dinp), this.at(inp), this.at(dout), n])
  }

  // ---- linear algebra ---------------------------------------------------------------------
  override matmul({ out, a, b, bias, M, N, K, transA = false, transB = false, accumulate = false }: MatmulArgs): void {
    this.op()
    if (M === 0 || N === 0) return
    let bAddress = this.at(b)
    let ldb = N
    if (transB || N % 8 !== 0) { // B as [K, N] rows of a multiple of 8 columns
      ldb = Math.ceil(N / 8) * 8
      bAddress = this.pack(bAddress, K, N, transB ? 1 : N, transB ? K : 1, ldb)
    }
    const tm = Math.ceil(M / 4); const tn = Math.ceil(N / 8)
    const P = this.parts(tm * tn, 32 * K)
    const pn = tm >= P ? 1 : Math.min(tn, Math.ceil(P / tm))
    const pm = Math.max(1, Math.min(tm, Math.floor(P / pn)))
    // K past one block: the part's tiles keep their totals in scratch (32 floats each)
    if (K > this.matmulKB) this.kernels.scratch(64 + Math.ceil(tm / pm) * Math.ceil(tn / pn) * 128)
    this.run('MATMUL', pm * pn, [this.at(out), this.at(a), bAddress, bias ? this.at(bias) : 0, M, N, K,
      transA ? 1 : K, transA ? M : 1, ldb, N, accumulate ? 1 : 0, pn])
  }

  /** B(k, n) at src + (k·sk + n·sn)·4 as [K, ld] rows, zero beyond N, in the backend's pack buffer. */
  private pack(src: number, K: number, N: number, sk: number, sn: number, ld: number): number {
    const bytes = K * ld * 4
    if (bytes > this.packBytes) {
      if (this.packAddress) this.kernels.release(this.packAddress)
      this.packBytes = Math.max(bytes, 2 * this.packBytes)
      this.packAddress = this.kernels.alloc(this.packBytes)
    }
    const parts = K * ld <= PACK_ALONE ? 1 : this.parts(K, ld)
    this.run('PACK', parts, [this.packAddress, src, K, N, sk, sn, ld])
    return this.packAddress
  }

  override biasGrad(dbias: Tensor, dout: Tensor, M: number, N: number, accumulate: boolean): void {
    this.op()
    this.run('BIAS_GRAD', this.parts(Math.ceil(N / 8), 8 * M), [this.at(dbias), this.at(dout), M, N, accumulate ? 1 : 0])
  }

  // ---- layers -----------------------------------------------------------------------------
  override embeddingForward(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void {
    this.op()
    this.run('EMBEDDING_FORWARD', this.parts(B * T, C), [this.at(out), this.at(tokens), this.at(wte), this.at(wpe), B, T, C])
  }

  override embeddingBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, tokens: Tensor,
    B: number, T: number, C: number, V: number, accumulate: boolean): void {
    this.op()
    const P = this.parts(V, B * T * 2)
    this.kernels.scratch(Math.ceil(V / P) * C * 8)
    this.run('EMBEDDING_BACKWARD', P, [this.at(dwte), this.at(dwpe), this.at(dout), this.at(tokens), B, T, C, V,
      accumulate ? 1 : 0, dwpe.length / C])
  }

  override embeddingForwardAt(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor,
    N: number, maxLen: number, pos: number, C: number): void {
    this.op()
    this.run('EMBEDDING_AT', this.parts(N, C), [this.at(out), this.at(tokens), this.at(wte), this.at(wpe), N, maxLen, pos, C])
  }

  override layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor,
    rows: number, C: number): void {
    this.op()
    this.run('LAYERNORM_FORWARD', this.parts(rows, 8 * C), [this.at(out), this.at(mean), this.at(rstd), this.at(inp),
      this.at(weight), this.at(bias), rows, C])
  }

  override layernormBackward(dinp: Tensor, dweight: Tensor, dbias: Tensor, dout: Tensor, inp: Tensor, weight: Tensor,
    mean: Tensor, rstd: Tensor, rows: number, C: number, accumulate: boolean): void {
    this.op()
    this.run('LAYERNORM_BACKWARD', this.parts(rows, 16 * C), [this.at(dinp), this.at(dweight),
      this.at(dbias), this.at(dout), this.at(inp), this.at(weight), this.at(mean), this.at(rstd), rows, C, accumulate ? 1 : 0])
  }

  override attentionForward(out: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    this.op()
    this.run('ATTENTION_FORWARD', this.parts(B * NH, T * T * (C / NH + 8)), [this.at(out), this.at(att), this.at(qkv), B, T, C, NH])
  }

  override attentionBackward(dqkv: Tensor, datt: Tensor, dout: Tensor, qkv: Tensor, att: Tensor,
    B: number, T: number, C: number, NH: number): void {
    this.op()
    this.run('ATTENTION_BACKWARD', this.parts(B * NH, 2 * T * T * (C / NH + 4)), [this.at(dqkv), this.at(datt), this.at(dout),
      this.at(qkv), this.at(att), B, T, C, NH])
  }

  override attentionDecode(out: Tensor, qkv: Tensor, kCache: Tensor, vCache: Tensor,
    N: number, C: number, NH: number, maxLen: number, pos: number): void {
    this.op()
    const P = this.parts(N, (pos + 1) * C * 2)
    this.kernels.scratch(Math.ceil(N / P) * NH * maxLen * 4)
    this.run('ATTENTION_DECODE', P, [this.at(out), this.at(qkv), this.at(kCache), this.at(vCache), N, C, NH, maxLen, pos])
  }

  override logprobForward(logp: Tensor, entropy: Tensor, logits: Tensor, targets: Tensor, rows: number, V: number, invTemperature = 1): void {
    this.op()
    this.run('LOGPROB_FORWARD', this.parts(rows, 4 * V), [this.at(logp), this.at(entropy), this.at(logits), this.at(targets),
      rows, V, invTemperature])
  }

  override logprobBackward(dlogits: Tensor, logits: Tensor, targets: Tensor, dlogp: Tensor, rows: number, V: number,
    invTemperature = 1, dentropy?: Tensor): void {
    this.op()
    this.run('LOGPROB_BACKWARD', this.parts(rows, 6 * V), [this.at(dlogits), this.at(logits), this.at(targets), this.at(dlogp),
      rows, V, invTemperature, dentropy ? this.at(dentropy) : 0])
  }

  // ---- optimisation and sampling ----------------------------------------------------------
  override adamw(args: AdamWArgs): void {
    this.op()
    const { lr, beta1, beta2, eps, weightDecay, step, maxGradNorm, decayEnd } = args
    const n = args.params.length
    // the global norm: float64 partial sums over fixed chunks, added here in order
    const chunks = Math.ceil(n / this.sumsqChunk)
    const partials = this.kernels.alloc(chunks * 8)
    try {
      this.run('SUMSQ', this.parts(chunks, this.sumsqChunk), [partials, this.at(args.grads), n])
      const sums = new Float64Array(this.kernels.memory.buffer, partials, chunks)
      let sq = 0
      for (let i = 0; i < chunks; i++) sq += sums[i]
      const norm = Math.sqrt(sq)
      const [gn, gno] = this.f(args.gradNorm)
      gn[gno] = norm
      const clip = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (norm + 1e-6)) : 1
      const bc1 = 1 - Math.pow(beta1, step); const bc2 = 1 - Math.pow(beta2, step)
      this.run('ADAMW', this.parts(Math.ceil(n / 4096), 4096 * 4), [this.at(args.params), this.at(args.grads), this.at(args.m),
        this.at(args.v), n, decayEnd, lr, beta1, beta2, eps, weightDecay, bc1, bc2, clip])
    } finally {
      this.kernels.release(partials)
    }
  }

  /** decodePositions with the whole model in one kernel: each part decodes its sequences through
   *  every position on its own (weights packed once per call); counted as one dispatch. */
  override decodePositions(a: DecodeArgs): void {
    const { N, V, C, L, maxLen } = a
    const pad = (n: number) => Math.ceil(n / 8) * 8
    // per layer qkv [3C, C], proj [C, C], fc [4C, C], fcproj [C, 4C]; then lm_head [V, C]: as [in, out]
    const mats: [number, number, number][] = [] // param index, out, in
    for (let l = 0; l < L; l++) {
      const o = DECODE_GLOBAL_PARAMS + l * DECODE_LAYER_PARAMS
      mats.push([o + 2, 3 * C, C], [o + 4, C, C], [o + 8, 4 * C, C], [o + 10, C, 4 * C])
    }
    mats.push([4, V, C])
    const offsets: number[] = []
    let total = 0
    for (const [, out, inp] of mats) { offsets.push(total); total += inp * pad(out) }
    const packed = this.kernels.alloc(total * 4)
    const packOffsets = this.kernels.alloc(offsets.length * 4)
    try {
      new Uint32Array(this.kernels.memory.buffer, packOffsets, offsets.length).set(offsets)
      const params = this.at(a.params)
      mats.forEach(([p, out, inp], i) => {
        this.run('PACK', this.parts(inp, pad(out)), [packed + offsets[i] * 4, params + a.offsetList[p] * 4, inp, out, 1, inp, pad(out)])
      })
      const groups = Math.ceil(N / 4)
      const work = 12 * L * C * C + C * V
      this.run('DECODE', this.parts(groups, 4 * work * (a.posEnd - a.posBegin)), [this.at(a.tokens), params, packed, packOffsets,
        this.at(a.kCache), this.at(a.vCache), this.at(a.scratch), this.at(a.promptLens), this.at(a.done),
        N, V, C, a.NH, L, maxLen, a.posBegin, a.posEnd, a.maxNew, a.temperature, a.topK, a.eosId, a.seed, a.stream, this.at(a.offsets)])
    } finally {
      this.kernels.release(packed)
      this.kernels.release(packOffsets)
    }
    this.counters.dispatches++
  }
}
