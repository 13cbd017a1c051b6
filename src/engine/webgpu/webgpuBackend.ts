// The WebGPU backend: each op is one or a few dispatches of a WGSL kernel from shaders/.
// Dispatches are recorded into one compute pass and submitted on flush or read, so a whole
// training step or a whole batch of sampled tokens is one submission with no readback inside.

import type {
  AdamWArgs, AdapterDescription, AdvantageArgs, Backend, Buffer, DecodeArgs, DType, GrpoLossArgs, MatmulArgs, SampleArgs, Tensor,
} from '../backend'
import { DEFAULT_GRPO_OBJECTIVE, DeviceLostError, GRPO_OBJECTIVE_KINDS, type GrpoObjective, SCALE_REWARDS } from '../backend'
import { countAllocation, newCounters } from '../counters'
import { checkBufferSize, LimitError } from './limits'
import { resolveIncludes, type ShaderSources } from './shaderSources'

interface Uniform { buffer: GPUBuffer; id: number; lastRead: number }

interface GpuBuffer extends Buffer {
  gpu: GPUBuffer
  bytes: number
}

type Param = ['u' | 'f', number]
type Binding = [number, Tensor]

const WG = 64
const MAX_GROUPS = 65535
const REDUCE_WG = 256
/** rows (queries, or keys) per workgroup of the attention training kernels: ROWS in attention.wgsl */
const ATTENTION_ROWS = 16
const STORAGE = 0x80 | 0x08 | 0x04 // STORAGE | COPY_DST | COPY_SRC (GPUBufferUsage values)
/** A cached uniform unused for this many readbacks is freed: parameters that change every step
 *  (a sampling stream, AdamW's bias corrections) would otherwise pile up for the whole run. */
const UNIFORM_KEEP_READS = 8

export class WebGPUBackend implements Backend {
  readonly kind = 'webgpu' as const
  readonly counters = newCounters()
  /** storage bindings must start on 256-byte boundaries: 64 floats */
  readonly alignment = 64

  private nextId = 1
  private modules = new Map<string, GPUShaderModule>()
  private pipelines = new Map<string, GPUComputePipeline>()
  private bindGroups = new Map<string, { group: GPUBindGroup; ids: number[] }>()
  /** bind-group keys by the buffers they bind, so freeing a buffer drops only its own groups */
  private bindGroupKeys = new Map<number, Set<string>>()
  private uniforms = new Map<string, Uniform>()
  /** readbacks so far: the clock of the uniform cache */
  private reads = 0
  /** set once device.lost resolves: every later op throws DeviceLostError */
  private lostInfo: GPUDeviceLostInfo | null = null
  private nextUniformId = 1
  private encoder: GPUCommandEncoder | null = null
  private pass: GPUComputePassEncoder | null = null
  private pending = 0
  private dummy: Tensor
  private reducePartials: Tensor
  private grpoScratch: Tensor | null = null
  /** workgroups per grid dimension (the grids wrap at 65535, what every device allows; the fused
   *  decoder's one workgroup per sequence does not) */
  private readonly maxGroups: number

  constructor(readonly device: GPUDevice, private readonly info: AdapterDescription,
    private readonly sources: ShaderSources) {
    this.maxGroups = device.limits.maxComputeWorkgroupsPerDimension
    this.dummy = this.tensor(this.createBuffer(4, 'f32', 'dummy'))
    this.reducePartials = this.tensor(this.createBuffer(REDUCE_WG, 'f32', 'reduce-partials'))
    void device.lost.then((info) => { this.lostInfo = info })
  }

  /** Resolves when the device is lost, for whoever must stop and say so (the lab's worker). */
  get lost(): Promise<DeviceLostError> {
    return this.device.lost.then((info) => new DeviceLostError(info.reason, info.message))
  }

  private checkDevice(): void {
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message)
  }

  describe(): AdapterDescription { return this.info }

  private tensor(buffer: Buffer): Tensor { return { buffer, offset: 0, length: buffer.length } }

  createBuffer(length: number, dtype: DType, label: string): Buffer {
    // Rounded up to a whole 256-byte block so that any aligned view can be bound.
    const bytes = Math.max(256, Math.ceil((length * 4) / 256) * 256)
    checkBufferSize(label, bytes, this.device.limits)
    const gpu = this.device.createBuffer({ size: bytes, usage: STORAGE, label })
    const buf: GpuBuffer = { id: this.nextId++, dtype, length, label, gpu, bytes }
    countAllocation(this.counters, bytes, 1)
    return buf
  }

  destroyBuffer(buffer: Buffer): void {
    this.flush() // recorded commands may still use it
    this.dropBindGroupsOf(buffer.id)
    ;(buffer as GpuBuffer).gpu.destroy()
    countAllocation(this.counters, (buffer as GpuBuffer).bytes, -1)
  }

  write(target: Tensor, data: ArrayLike<number>): void {
    if (data.length > target.length) throw new RangeError(`write of ${data.length} into '${target.buffer.label}' view of ${target.length}`)
    this.checkDevice()
    // queue.writeBuffer runs before any unsubmitted commands: submit them first to keep order.
    this.flush()
    const arr = target.buffer.dtype === 'u32' ? Uint32Array.from(data) : Float32Array.from(data)
    this.device.queue.writeBuffer((target.buffer as GpuBuffer).gpu, target.offset * 4, arr)
    this.counters.bytesUp += arr.byteLength
  }

  async read(source: Tensor): Promise<Float32Array | Uint32Array> {
    this.checkDevice()
    this.endPass()
    const bytes = source.length * 4
    const size = Math.max(4, bytes)
    const staging = this.device.createBuffer({ size, usage: 0x01 | 0x08 /* MAP_READ | COPY_DST */ })
    countAllocation(this.counters, size, 1)
    const enc = this.encoder ?? this.device.createCommandEncoder()
    enc.copyBufferToBuffer((source.buffer as GpuBuffer).gpu, source.offset * 4, staging, 0, bytes)
    this.device.queue.submit([enc.finish()])
    this.encoder = null
    this.pending = 0
    this.counters.submits++
    try {
      await staging.mapAsync(0x0001 /* GPUMapMode.READ */)
    } catch (e) {
      staging.destroy()
      countAllocation(this.counters, size, -1)
      throw await this.lostOr(e as Error)
    }
    const copy = staging.getMappedRange().slice(0)
    staging.unmap()
    staging.destroy()
    countAllocation(this.counters, size, -1)
    this.reads++
    this.sweepUniforms()
    this.counters.readbacks++
    this.counters.bytesDown += bytes
    return source.buffer.dtype === 'u32' ? new Uint32Array(copy) : new Float32Array(copy)
  }

  /** A failed mapAsync: a DeviceLostError when the device is gone (device.lost may resolve just
   *  after the map fails), else the error itself. */
  private async lostOr(e: Error): Promise<Error> {
    const lost = await Promise.race([this.lost, new Promise<null>((r) => setTimeout(() => r(null), 2000))])
    return lost ?? e
  }

  private endPass(): void {
    if (this.pass) { this.pass.end(); this.pass = null }
  }

  flush(): void {
    this.endPass()
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()])
      this.counters.submits++
      this.encoder = null
    }
    this.pending = 0
  }

  async sync(): Promise<void> {
    this.checkDevice()
    this.flush()
    await this.device.queue.onSubmittedWorkDone()
  }

  destroy(): void {
    this.flush()
    this.evictUniforms()
    this.device.destroy()
  }

  // ---- dispatch machinery -----------------------------------------------------------------
  /** Compile every kernel file up front so a WGSL error fails loudly at start, naming the line. */
  async compileShaders(): Promise<void> {
    const errors: string[] = []
    for (const [name, code] of Object.entries(this.sources)) {
      if (!code.includes('@compute')) continue // include-only files (common, rng)
      const mod = this.device.createShaderModule({ code: resolveIncludes(name, this.sources), label: name })
      this.modules.set(name, mod)
      const info = await mod.getCompilationInfo()
      for (const m of info.messages) if (m.type === 'error') errors.push(`shaders/${name}.wgsl (after includes) ${m.lineNum}:${m.linePos}: ${m.message}`)
    }
    if (errors.length) throw new Error(`WGSL compilation failed:\n${errors.join('\n')}`)
  }

  private pipeline(module: string, entry: string): GPUComputePipeline {
    const key = `${module}:${entry}`
    let pipe = this.pipelines.get(key)
    if (!pipe) {
      let mod = this.modules.get(module)
      if (!mod) {
        mod = this.device.createShaderModule({ code: resolveIncludes(module, this.sources), label: module })
        this.modules.set(module, mod)
      }
      pipe = this.device.createComputePipeline({ layout: 'auto', compute: { module: mod, entryPoint: entry }, label: key })
      this.pipelines.set(key, pipe)
    }
    return pipe
  }

  /** Uniform buffers are cached by content: an op with the same parameters reuses its buffer. */
  private uniform(params: Param[]): Uniform {
    const words = new Uint32Array(Math.max(4, Math.ceil(params.length / 4) * 4))
    const floats = new Float32Array(words.buffer)
    params.forEach(([t, v], i) => { if (t === 'u') words[i] = v >>> 0; else floats[i] = v })
    const key = Array.prototype.join.call(words, ',')
    let entry = this.uniforms.get(key)
    if (!entry) {
      if (this.uniforms.size > 8192) this.evictUniforms()
      const buffer = this.device.createBuffer({ size: words.byteLength, usage: 0x40 | 0x08 /* UNIFORM | COPY_DST */ })
      countAllocation(this.counters, words.byteLength, 1)
      this.device.queue.writeBuffer(buffer, 0, words)
      this.counters.bytesUp += words.byteLength
      entry = { buffer, id: this.nextUniformId++, lastRead: this.reads }
      this.uniforms.set(key, entry)
    }
    entry.lastRead = this.reads
    return entry
  }

  releaseCaches(): void {
    this.evictUniforms()
    if (this.grpoScratch) { this.destroyBuffer(this.grpoScratch.buffer); this.grpoScratch = null }
  }

  private evictUniforms(): void {
    this.flush() // nothing recorded may still refer to what is freed
    for (const u of this.uniforms.values()) { u.buffer.destroy(); countAllocation(this.counters, u.buffer.size, -1) }
    this.uniforms.clear()
    this.bindGroups.clear()
    this.bindGroupKeys.clear()
  }

  /** Free the uniforms no command has used for UNIFORM_KEEP_READS readbacks (all their work is
   *  done: a readback waits for everything submitted before it), with their bind groups. */
  private sweepUniforms(): void {
    for (const [key, u] of this.uniforms) {
      if (this.reads - u.lastRead <= UNIFORM_KEEP_READS) continue
      u.buffer.destroy()
      countAllocation(this.counters, u.buffer.size, -1)
      this.uniforms.delete(key)
      this.dropBindGroupsOf(-u.id)
    }
  }

  /** Forget the bind groups that bind buffer (or negated uniform) `id`, in every index too:
   *  keys left behind in the other buffers' lists would grow with every step. */
  private dropBindGroupsOf(id: number): void {
    for (const key of this.bindGroupKeys.get(id) ?? []) {
      for (const other of this.bindGroups.get(key)?.ids ?? []) {
        const keys = this.bindGroupKeys.get(other)
        keys?.delete(key)
        if (keys?.size === 0) this.bindGroupKeys.delete(other)
      }
      this.bindGroups.delete(key)
    }
    this.bindGroupKeys.delete(id)
  }

  private dispatch(module: string, entry: string, bindings: Binding[], params: Param[],
    groups: [number, number?, number?], uniformBinding: number): void {
    this.checkDevice()
    if (groups.some((g) => (g ?? 1) > this.maxGroups)) {
      throw new LimitError('maxComputeWorkgroupsPerDimension', `${module}.${entry} needs ${[groups[0], groups[1] ?? 1, groups[2] ?? 1].join(' × ')} workgroups, and this device allows ${this.maxGroups} per dimension`)
    }
    const pipe = this.pipeline(module, entry)
    const u = this.uniform(params)
    let key = `${module}:${entry}|u:${u.id}`
    const entries: GPUBindGroupEntry[] = []
    for (const [binding, t] of bindings) {
      if (t.offset % this.alignment !== 0) {
        throw new Error(`${module}.${entry}: binding ${binding} ('${t.buffer.label}') starts at element ${t.offset}, not ${this.alignment}-aligned`)
      }
      key += `|${binding}:${t.buffer.id}:${t.offset}:${t.length}`
      entries.push({ binding, resource: { buffer: (t.buffer as GpuBuffer).gpu, offset: t.offset * 4, size: Math.max(4, t.length * 4) } })
    }
    entries.push({ binding: uniformBinding, resource: { buffer: u.buffer } })
    let bg = this.bindGroups.get(key)?.group
    if (!bg) {
      bg = this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries })
      // indexed by buffer id, and by the uniform's id negated (ids of both start at 1)
      const ids = [...bindings.map(([, t]) => t.buffer.id), -u.id]
      this.bindGroups.set(key, { group: bg, ids })
      for (const id of ids) {
        const keys = this.bindGroupKeys.get(id)
        if (keys) keys.add(key); else this.bindGroupKeys.set(id, new Set([key]))
      }
    }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder()
    if (!this.pass) this.pass = this.encoder.beginComputePass()
    this.pass.setPipeline(pipe)
    this.pass.setBindGroup(0, bg)
    this.pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1)
    this.counters.dispatches++
    if (++this.pending >= 4096) this.flush()
  }

  /** A 1-D launch of `n` invocations, 64 per workgroup, wrapped into y past 65535 groups. */
  private grid(n: number): [number, number] {
    return this.groupGrid(Math.ceil(n / WG))
  }

  /** `groups` workgroups, wrapped into y past 65535 (the kernel returns from the extra ones). */
  private groupGrid(groups: number): [number, number] {
    const g = Math.max(1, groups)
    return g <= MAX_GROUPS ? [g, 1] : [MAX_GROUPS, Math.ceil(g / MAX_GROUPS)]
  }

  // ---- elementwise ------------------------------------------------------------------------
  fill(out: Tensor, value: number): void {
    this.dispatch('elementwise', 'fill', [[0, out]], [['u', out.length], ['f', value]], this.grid(out.length), 3)
  }
  copy(out: Tensor, src: Tensor): void {
    this.dispatch('elementwise', 'copy', [[0, out], [1, src]], [['u', out.length], ['f', 0]], this.grid(out.length), 3)
  }
  add(out: Tensor, a: Tensor, b: Tensor): void {
    this.dispatch('elementwise', 'add', [[0, out], [1, a], [2, b]], [['u', out.length], ['f', 0]], this.grid(out.length), 3)
  }
  geluForward(out: Tensor, inp: Tensor): void {
    this.dispatch('elementwise', 'gelu_forward', [[0, out], [1, inp]], [['u', out.length], ['f', 0]], this.grid(out.length), 3)
  }
  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor): void {
    this.dispatch('elementwise', 'gelu_backward', [[0, dinp], [1, inp], [2, dout]], [['u', dinp.length], ['f', 0]], this.grid(dinp.length), 3)
  }

  // ---- linear algebra ---------------------------------------------------------------------
  matmul({ out, a, b, bias, M, N, K, transA = false, transB = false, accumulate = false }: MatmulArgs): void {
    const [aSm, aSk] = transA ? [1, M] : [K, 1]
    const [bSk, bSn] = transB ? [1, K] : [N, 1]
    const flags = (bias ? 1 : 0) | (accumulate ? 2 : 0)
    this.dispatch('matmul', 'matmul', [[0, out], [1, a], [2, b], [3, bias ?? this.dummy]],
      [['u', M], ['u', N], ['u', K], ['u', aSm], ['u', aSk], ['u', bSk], ['u', bSn], ['u', flags]],
      [Math.ceil(N / 32), Math.ceil(M / 32)], 4)
  }

  biasGrad(dbias: Tensor, dout: Tensor, M: number, N: number, accumulate: boolean): void {
    this.dispatch('matmul', 'bias_grad', [[0, dbias], [1, dout]],
      [['u', M], ['u', N], ['u', 0], ['u', 0], ['u', 0], ['u', 0], ['u', 0], ['u', accumulate ? 2 : 0]],
      this.grid(N), 4)
  }

  // ---- layers -----------------------------------------------------------------------------
  private embeddingParams(B: number, T: number, C: number, V: number, rowsPe: number, acc: boolean,
    pos: number, maxLen: number): Param[] {
    return [['u', B], ['u', T], ['u', C], ['u', V], ['u', rowsPe], ['u', acc ? 1 : 0], ['u', pos], ['u', maxLen]]
  }

  embeddingForward(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void {
    this.dispatch('embedding', 'forward', [[0, out], [1, tokens], [2, wte], [3, wpe]],
      this.embeddingParams(B, T, C, 0, 0, false, 0, 0), this.grid(B * T * C), 6)
  }

  embeddingBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, tokens: Tensor,
    B: number, T: number, C: number, V: number, accumulate: boolean): void {
    const rowsPe = dwpe.length / C
    const params = this.embeddingParams(B, T, C, V, rowsPe, accumulate, 0, 0)
    this.dispatch('embedding', 'backward_tokens', [[0, dwte], [1, tokens], [4, dout]], params, this.grid(V * C), 6)
    this.dispatch('embedding', 'backward_positions', [[5, dwpe], [4, dout]], params, this.grid(rowsPe * C), 6)
  }

  embeddingForwardAt(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor,
    N: number, maxLen: number, pos: number, C: number): void {
    this.dispatch('embedding', 'forward_at', [[0, out], [1, tokens], [2, wte], [3, wpe]],
      this.embeddingParams(N, 0, C, 0, 0, false, pos, maxLen), this.grid(N * C), 6)
  }

  layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor,
    rows: number, C: number): void {
    this.dispatch('layernorm', 'forward', [[0, out], [1, mean], [2, rstd], [3, inp], [4, weight], [5, bias]],
      [['u', rows], ['u', C], ['u', 0]], this.grid(rows), 9)
  }

  layernormBackward(dinp: Tensor, dweight: Tensor, dbias: Tensor, dout: Tensor, inp: Tensor, weight: Tensor,
    mean: Tensor, rstd: Tensor, rows: number, C: number, accumulate: boolean): void {
    const params: Param[] = [['u', rows], ['u', C], ['u', accumulate ? 1 : 0]]
    this.dispatch('layernorm', 'backward_input', [[0, dinp], [1, mean], [2, rstd], [3, inp], [4, weight], [6, dout]],
      params, this.grid(rows), 9)
    this.dispatch('layernorm', 'backward_params', [[1, mean], [2, rstd], [3, inp], [6, dout], [7, dweight], [8, dbias]],
      params, this.grid(C), 9)
  }

  private attentionParams(B: number, T: number, C: number, NH: number, pos: number, maxLen: number): Param[] {
    return [['u', B], ['u', T], ['u', C], ['u', NH], ['u', pos], ['u', maxLen]]
  }

  /** The training kernels' grid: a workgroup per (b, h, block of ATTENTION_ROWS rows). */
  private attentionGrid(B: number, T: number, NH: number): [number, number] {
    return this.groupGrid(B * NH * Math.ceil(T / ATTENTION_ROWS))
  }

  attentionForward(out: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void {
    this.dispatch('attention', 'forward', [[0, out], [1, att], [2, qkv], [8, qkv]],
      this.attentionParams(B, T, C, NH, 0, 0), this.attentionGrid(B, T, NH), 7)
  }

  attentionBackward(dqkv: Tensor, datt: Tensor, dout: Tensor, qkv: Tensor, att: Tensor,
    B: number, T: number, C: number, NH: number): void {
    const params = this.attentionParams(B, T, C, NH, 0, 0)
    const bindings: Binding[] = [[0, dqkv], [1, datt], [2, qkv], [3, dout], [4, att], [8, qkv], [9, dout]]
    this.dispatch('attention', 'backward_query', bindings, params, this.attentionGrid(B, T, NH), 7)
    this.dispatch('attention', 'backward_key_value', bindings, params, this.attentionGrid(B, T, NH), 7)
  }

  attentionDecode(out: Tensor, qkv: Tensor, kCache: Tensor, vCache: Tensor,
    N: number, C: number, NH: number, maxLen: number, pos: number): void {
    this.dispatch('attention', 'decode', [[0, out], [2, qkv], [5, kCache], [6, vCache]],
      this.attentionParams(N, 0, C, NH, pos, maxLen), this.grid(N * NH), 7)
  }

  logprobForward(logp: Tensor, entropy: Tensor, logits: Tensor, targets: Tensor, rows: number, V: number, invTemperature = 1): void {
    this.dispatch('logprob', 'forward', [[0, logp], [1, entropy], [2, logits], [3, targets]],
      [['u', rows], ['u', V], ['f', invTemperature], ['u', 0]], this.grid(rows), 6)
  }

  logprobBackward(dlogits: Tensor, logits: Tensor, targets: Tensor, dlogp: Tensor, rows: number, V: number,
    invTemperature = 1, dentropy?: Tensor): void {
    this.dispatch('logprob', 'backward', [[4, dlogits], [2, logits], [3, targets], [5, dlogp], [7, dentropy ?? this.dummy]],
      [['u', rows], ['u', V], ['f', invTemperature], ['u', dentropy ? 1 : 0]], this.grid(rows), 6)
  }

  // ---- GRPO --------------------------------------------------------------------------------
  advantages(a: AdvantageArgs): void {
    const gdpo = a.aggregation === 'normalize_then_sum'
    const params: Param[] = [['u', a.numGroups], ['u', a.G], ['u', SCALE_REWARDS.indexOf(a.scale)], ['u', gdpo ? 1 : 0], ['u', a.K ?? 1]]
    const out: Binding[] = [[1, a.advantages], [2, a.std], [3, a.zeroStdGroups]]
    if (!gdpo) this.dispatch('advantage', 'advantage', [[0, a.rewards], ...out], params, this.grid(a.numGroups), 4)
    else {
      if (!a.rewardsPerFunc || !a.rewardWeights || !a.K) throw new Error('advantages: normalize_then_sum needs rewardsPerFunc, rewardWeights and K')
      this.dispatch('advantage', 'advantage_normalize_then_sum', [...out, [5, a.rewardsPerFunc], [6, a.rewardWeights]], params, this.grid(a.numGroups), 4)
    }
  }

  grpoLoss(a: GrpoLossArgs): void {
    const o: GrpoObjective = { ...DEFAULT_GRPO_OBJECTIVE, ...a.objective }
    const n = a.N * a.T
    const scratch = this.grpoScratchFor(4 + 8 * a.N + n)
    const params: Param[] = [['u', a.N], ['u', a.T], ['f', a.epsilonLow], ['f', a.epsilonHigh], ['f', a.beta], ['u', a.seqOffset ?? 0],
      ['u', GRPO_OBJECTIVE_KINDS.indexOf(o.kind)], ['u', o.sequenceLevel ? 1 : 0], ['f', o.delta],
      ['f', o.sapoTemperaturePos], ['f', o.sapoTemperatureNeg],
      ['f', o.vespoKPos], ['f', o.vespoLambdaPos], ['f', o.vespoKNeg], ['f', o.vespoLambdaNeg],
      ['f', 1 - o.topEntropyQuantile], ['u', o.topEntropyQuantile < 1 ? 1 : 0], ['f', o.entropyCoef], ['f', o.gradientAccumulationSteps],
      ['u', o.klBiasCorrection ? 1 : 0]]
    const S: Binding = [11, scratch]
    if (o.topEntropyQuantile < 1) this.dispatch('grpo_loss', 'entropy_rank', [[3, a.mask], [8, a.entropy], S], params, this.grid(n), 10)
    this.dispatch('grpo_loss', 'sequence_terms', [[0, a.logp], [1, a.oldLogp], [2, a.refLogp], [3, a.mask], [4, a.advantages], [5, a.weights],
      [8, a.entropy], S], params, [1], 10)
    this.dispatch('grpo_loss', 'token_terms_main', [[0, a.logp], [1, a.oldLogp], [2, a.refLogp], [3, a.mask],
      [6, a.dlogp], [7, a.tokenTerms], [8, a.entropy], S], params, this.grid(n), 10)
    if (o.entropyCoef !== 0) {
      if (!a.dentropy) throw new Error('grpoLoss: entropyCoef ≠ 0 needs a dentropy tensor')
      this.dispatch('grpo_loss', 'entropy_bonus_grad', [[3, a.mask], [8, a.entropy], S, [12, a.dentropy]], params, this.grid(n), 10)
    }
    this.dispatch('grpo_loss', 'reduce_stats', [[0, a.logp], [1, a.oldLogp], [3, a.mask],
      [7, a.tokenTerms], [8, a.entropy], [9, a.stats], S], params, [1], 10)
  }

  /** The loss kernels' scratch (per-sequence terms, sorted entropies): kept, grown when too small. */
  private grpoScratchFor(length: number): Tensor {
    if (!this.grpoScratch || this.grpoScratch.length < length) {
      if (this.grpoScratch) { this.flush(); this.destroyBuffer(this.grpoScratch.buffer) }
      this.grpoScratch = this.tensor(this.createBuffer(Math.max(1024, length), 'f32', 'grpo-scratch'))
    }
    return this.grpoScratch
  }

  // ---- optimisation and sampling ----------------------------------------------------------
  adamw(args: AdamWArgs): void {
    const n = args.params.length
    const numPartials = Math.min(REDUCE_WG, Math.max(1, Math.ceil(n / (REDUCE_WG * 4))))
    const chunk = Math.ceil(n / numPartials)
    const params: Param[] = [
      ['u', n], ['u', args.decayEnd], ['u', numPartials], ['u', chunk],
      ['f', args.lr], ['f', args.beta1], ['f', args.beta2], ['f', args.eps],
      ['f', args.weightDecay], ['f', 1 - Math.pow(args.beta1, args.step)],
      ['f', 1 - Math.pow(args.beta2, args.step)], ['f', args.maxGradNorm],
    ]
    this.dispatch('adamw', 'sum_squares_partial', [[1, args.grads], [4, this.reducePartials]], params, [numPartials], 6)
    this.dispatch('adamw', 'sum_squares_final', [[4, this.reducePartials], [5, args.gradNorm]], params, [1], 6)
    this.dispatch('adamw', 'update', [[0, args.params], [1, args.grads], [2, args.m], [3, args.v], [5, args.gradNorm]],
      params, this.grid(n), 6)
  }

  sample(a: SampleArgs): void {
    this.dispatch('sample', 'sample', [[0, a.tokens], [1, a.logits], [2, a.promptLens], [3, a.done]], [
      ['u', a.N], ['u', a.V], ['u', a.maxLen], ['u', a.pos],
      ['u', a.maxNew], ['u', a.topK], ['u', a.eosId], ['u', a.seed],
      ['u', a.stream], ['f', a.temperature],
    ], this.grid(a.N), 4)
  }
  decodePositions(a: DecodeArgs): void {
    this.dispatch('decode', 'decode', [[0, a.tokens], [1, a.params], [2, a.offsets], [3, a.kCache], [4, a.vCache],
      [5, a.scratch], [6, a.promptLens], [7, a.done]], [
      ['u', a.N], ['u', a.V], ['u', a.C], ['u', a.NH],
      ['u', a.L], ['u', a.maxLen], ['u', a.posBegin], ['u', a.posEnd],
      ['u', a.maxNew], ['u', a.topK], ['u', a.eosId], ['u', a.seed],
      ['u', a.stream], ['f', a.temperature],
    ], [a.N], 8)
  }

}
