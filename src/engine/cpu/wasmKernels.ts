// The host side of the fast CPU backend's WebAssembly kernels: one memory (shared between threads
// when the platform allows), an allocator for the backend's buffers in it, and a fork–join pool of
// kernel threads (kernelThread.mjs) that split each kernel into parts.
//
// Protocol, all in the control words at ctl (Int32Array over the memory):
//   the host writes the kernel's arguments (f64 slots at args), then CTL_KERNEL, CTL_REMAINING =
//   parts, and last CTL_WORD = parts << 16, and wakes the threads. Every thread, the host included,
//   takes the next part by compare-and-swap of CTL_WORD from (parts, i) to (parts, i + 1): a swap
//   that succeeds owns part i of the kernel published now, however late its thread looked. It runs
//   the part and decrements CTL_REMAINING; the host returns when that reaches 0. Parts are taken
//   in any order by any thread, and the kernels make every output independent of which part it is
//   in, so the numbers are the same for any number of threads.
//
// The host blocks (Atomics.wait) while the threads finish: allowed in Node and in a Web Worker, which
// is where the lab trains; on a page's main thread it spins instead.
//
// On a machine busy with other work a thread may be descheduled holding a part, and the host then
// waits for it: threads can cost more than they give. The host measures it (the time its own parts
// took, scaled to all parts, against the time the kernels took) and, when threads did not pay over
// a window of kernels, runs the next ones alone before trying again. Who runs a part never changes
// its numbers.

/** A kernel thread as the pool sees it (a worker_threads Worker or a Web Worker). */
export interface KernelThread {
  post(message: unknown): void
  onMessage(listener: (message: { type: string; message?: string }) => void): void
  onError(listener: (error: Error) => void): void
  terminate(): void
}

export interface WasmKernelsOptions {
  module: WebAssembly.Module
  /** the module imports a shared memory (threads) */
  shared: boolean
  /** the module was built with relaxed SIMD (fused multiply-add) */
  relaxed: boolean
  /** threads in all, the calling one included; > 1 needs `shared` and `spawn` */
  threads: number
  spawn?: () => KernelThread
  /** the largest memory to ask for, in 64 KiB pages (the module's maximum); less is tried when refused */
  maxPages: number
}

export interface KernelExports {
  init(args: number): void
  run(kernel: number, part: number, parts: number, thread: number): void
  heapBase(): number
  zero(at: number, bytes: number): void
  [name: string]: unknown
}

const CTL_WORD = 0
const CTL_REMAINING = 1
const CTL_KERNEL = 2
const CTL_STOP = 3
const CTL_FAILED = 4
/** argument slots of a kernel (the last two are the threads' scratch: base and stride) */
export const ARG_SLOTS = 64
const ARG_TMP_BASE = 62
const ARG_TMP_STRIDE = 63
/** most parts of one kernel (the control word holds them in 16 bits) */
export const MAX_PARTS = 4096
const ALIGN = 64
const PAGE = 65536
/** spins of the host on CTL_REMAINING before it sleeps */
const SPIN = 20000
/** the host gives up on its threads after this long without any finishing a part */
const STALL_MS = 120_000
/** kernels per window over which threads must pay (be 10% faster than the host alone) */
const WINDOW = 64
/** kernels the host then runs alone before it tries threads again */
const ALONE = 512

export class WasmKernels {
  readonly memory: WebAssembly.Memory
  readonly exports: KernelExports
  readonly threads: number
  readonly shared: boolean
  readonly relaxed: boolean
  /** bumped whenever the memory grows: views made before are remade (an unshared memory detaches them) */
  generation = 0
  private readonly ctlOffset: number
  private readonly argsOffset: number
  private ctlView: Int32Array
  private argView: Float64Array
  private viewGeneration = 0
  private readonly canWait: boolean
  private workers: KernelThread[] = []
  private top: number
  /** everything from here up has never been handed out */
  private zeroFrom = 0
  /** free blocks [start, bytes], by address */
  private free: [number, number][] = []
  private readonly sizes = new Map<number, number>()
  private tmpBase = 0
  /** dispatches so far; up to aloneUntil, the host runs kernels by itself (threads did not pay) */
  private dispatches = 0
  private aloneUntil = 0
  private window = { kernels: 0, alone: 0, threaded: 0 }
  /** kernels of more than one part run on the threads, and run by the host alone when threads did not pay */
  readonly split = { threaded: 0, alone: 0 }
  private tmpStride = 0
  private destroyed = false

  private constructor(o: WasmKernelsOptions, memory: WebAssembly.Memory, instance: WebAssembly.Instance) {
    this.memory = memory
    this.exports = instance.exports as unknown as KernelExports
    this.threads = o.threads
    this.shared = o.shared
    this.relaxed = o.relaxed
    this.top = Math.max(4096, roundUp(this.exports.heapBase(), ALIGN))
    this.ctlOffset = this.alloc(64)
    this.argsOffset = this.alloc(ARG_SLOTS * 8)
    this.ctlView = new Int32Array(memory.buffer, this.ctlOffset, 8)
    this.argView = new Float64Array(memory.buffer, this.argsOffset, ARG_SLOTS)
    this.exports.init(this.argsOffset)
    this.canWait = agentCanBlock(this.ctlView)
  }

  /** The memory, the host's instance and, for threads > 1, the started threads. */
  static async create(o: WasmKernelsOptions): Promise<WasmKernels> {
    if (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > 256) throw new RangeError(`threads: got ${o.threads}; allowed: an integer from 1 to 256`)
    if (o.threads > 1 && (!o.shared || !o.spawn)) throw new Error('threads > 1 need a shared memory and a way to start threads')
    const memory = newMemory(o.shared, o.maxPages)
    const instance = await WebAssembly.instantiate(o.module, hostImports(memory))
    const k = new WasmKernels(o, memory, instance)
    try {
      await k.startThreads(o.module, o.spawn)
    } catch (e) {
      k.destroy()
      throw e
    }
    return k
  }

  private async startThreads(module: WebAssembly.Module, spawn?: () => KernelThread): Promise<void> {
    const started: Promise<void>[] = []
    for (let thread = 1; thread < this.threads; thread++) {
      const w = spawn!()
      this.workers.push(w)
      started.push(new Promise<void>((resolve, reject) => {
        w.onMessage((m) => {
          if (m.type === 'ready') resolve()
          else if (m.type === 'error') reject(new Error(m.message))
        })
        w.onError((e) => reject(new Error(`kernel thread ${thread} failed to start: ${e.message}`)))
      }))
      w.post({ module, memory: this.memory, ctlOffset: this.ctlOffset, argsOffset: this.argsOffset, thread })
    }
    await Promise.all(started)
  }

  // ---- memory ---------------------------------------------------------------------------------
  /** `bytes` of the memory, 64-byte aligned, zeroed; returns the byte address. */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1), ALIGN)
    let at = -1
    for (let i = 0; i < this.free.length; i++) {
      const [start, len] = this.free[i]
      if (len < size) continue
      at = start
      if (len === size) this.free.splice(i, 1)
      else this.free[i] = [start + size, len - size]
      break
    }
    if (at < 0) {
      at = this.top
      this.ensureMemory(at + size)
      this.top = at + size
    }
    this.sizes.set(at, size)
    // memory above the highest block ever handed out is as the engine made it: zero
    if (at < this.zeroFrom) this.exports.zero(at, Math.min(size, this.zeroFrom - at))
    this.zeroFrom = Math.max(this.zeroFrom, at + size)
    return at
  }

  release(at: number): void {
    const size = this.sizes.get(at)
    if (size === undefined) return
    this.sizes.delete(at)
    // insert by address and merge with the neighbours; a block that ends at the top lowers it
    let i = 0
    while (i < this.free.length && this.free[i][0] < at) i++
    this.free.splice(i, 0, [at, size])
    if (i + 1 < this.free.length && this.free[i][0] + this.free[i][1] === this.free[i + 1][0]) {
      this.free[i][1] += this.free[i + 1][1]
      this.free.splice(i + 1, 1)
    }
    if (i > 0 && this.free[i - 1][0] + this.free[i - 1][1] === this.free[i][0]) {
      this.free[i - 1][1] += this.free[i][1]
      this.free.splice(i, 1)
      i--
    }
    const last = this.free[this.free.length - 1]
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0]
      this.free.pop()
    }
  }

  private ensureMemory(end: number): void {
    const have = this.memory.buffer.byteLength
    if (end <= have) return
    const pages = Math.ceil((end - have) / PAGE)
    try {
      this.memory.grow(Math.max(pages, Math.ceil(have / PAGE / 4))) // grow by ≥ 25%: fewer grows
    } catch {
      try { this.memory.grow(pages) } catch {
        throw new RangeError(`the fast CPU backend's memory cannot grow to ${(end / 2 ** 20).toFixed(0)} MiB ` +
          `(it has ${(have / 2 ** 20).toFixed(0)} MiB; a WebAssembly memory holds at most 4 GiB): choose a smaller model or batch`)
      }
    }
    this.generation++
  }

  private views(): void {
    if (this.viewGeneration === this.generation) return
    this.ctlView = new Int32Array(this.memory.buffer, this.ctlOffset, 8)
    this.argView = new Float64Array(this.memory.buffer, this.argsOffset, ARG_SLOTS)
    this.viewGeneration = this.generation
  }

  /** Scratch of at least `bytes` for each thread, for the next kernel (kept for later ones). */
  scratch(bytes: number): void {
    if (bytes <= this.tmpStride) return
    if (this.tmpBase) this.release(this.tmpBase)
    this.tmpStride = roundUp(Math.max(bytes, 4096), ALIGN)
    this.tmpBase = this.alloc(this.tmpStride * this.threads)
  }

  // ---- running kernels ------------------------------------------------------------------------
  /** Run `kernel` in `parts` parts with these arguments (pointers are byte addresses). */
  run(kernel: number, parts: number, args: readonly number[]): void {
    if (this.destroyed) throw new Error('the fast CPU backend was destroyed')
    if (parts < 1 || parts > MAX_PARTS || !Number.isInteger(parts)) throw new RangeError(`parts: ${parts}`)
    this.scratch(64)
    this.views()
    const a = this.argView
    for (let i = 0; i < args.length; i++) a[i] = args[i]
    a[ARG_TMP_BASE] = this.tmpBase
    a[ARG_TMP_STRIDE] = this.tmpStride
    if (parts === 1 || this.threads === 1 || ++this.dispatches < this.aloneUntil) {
      if (parts > 1 && this.threads > 1) this.split.alone++
      for (let p = 0; p < parts; p++) this.exports.run(kernel, p, parts, 0)
      return
    }
    this.split.threaded++
    const t0 = performance.now()
    const ctl = this.ctlView
    Atomics.store(ctl, CTL_KERNEL, kernel)
    Atomics.store(ctl, CTL_REMAINING, parts)
    Atomics.store(ctl, CTL_WORD, parts << 16)
    Atomics.notify(ctl, CTL_WORD)
    let failure: unknown = null
    let mine = 0
    for (;;) {
      const v = Atomics.load(ctl, CTL_WORD)
      const next = v & 0xffff
      if (next >= (v >>> 16)) break
      if (Atomics.compareExchange(ctl, CTL_WORD, v, v + 1) !== v) continue
      try { this.exports.run(kernel, next, parts, 0) } catch (e) { failure ??= e }
      Atomics.sub(ctl, CTL_REMAINING, 1)
      mine++
    }
    const t1 = performance.now()
    this.join(ctl)
    this.judge(mine, parts, t1 - t0, performance.now() - t0)
    if (failure) throw failure
    if (Atomics.load(ctl, CTL_FAILED) !== 0) {
      Atomics.store(ctl, CTL_FAILED, 0)
      throw new Error(`a kernel thread failed in kernel ${kernel} (an out-of-bounds access in the WebAssembly kernels)`)
    }
  }

  /** One threaded kernel: the host ran `mine` of `parts` parts in `ownMs`, all were done in `ms`. */
  private judge(mine: number, parts: number, ownMs: number, ms: number): void {
    const w = this.window
    if (mine === 0) return // the threads took every part: nothing to scale from
    w.alone += ownMs * parts / mine
    w.threaded += ms
    if (++w.kernels < WINDOW) return
    if (w.alone < 1.1 * w.threaded) this.aloneUntil = this.dispatches + ALONE
    this.window = { kernels: 0, alone: 0, threaded: 0 }
  }

  private join(ctl: Int32Array): void {
    let spins = 0
    let waited = 0
    for (;;) {
      const left = Atomics.load(ctl, CTL_REMAINING)
      if (left === 0) return
      if (spins < SPIN || !this.canWait) { spins++; continue }
      if (Atomics.wait(ctl, CTL_REMAINING, left, 1000) === 'timed-out' && Atomics.load(ctl, CTL_REMAINING) === left) {
        waited += 1000
        if (waited >= STALL_MS) throw new Error(`the fast CPU backend's threads stopped: ${left} part(s) unfinished after ${STALL_MS / 1000} s`)
      } else waited = 0
    }
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    if (this.workers.length) {
      this.views()
      Atomics.store(this.ctlView, CTL_STOP, 1)
      Atomics.store(this.ctlView, CTL_WORD, 0)
      Atomics.notify(this.ctlView, CTL_WORD)
      for (const w of this.workers) w.terminate()
      this.workers = []
    }
  }
}

function roundUp(x: number, m: number): number { return Math.ceil(x / m) * m }

export function hostImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return { env: { memory, exp: Math.exp, log: Math.log } }
}

/** A memory of 1 MiB that may grow to maxPages (a shared one must say its maximum up front; a
 *  browser may refuse to reserve 4 GiB, so smaller maxima are tried). */
function newMemory(shared: boolean, maxPages: number): WebAssembly.Memory {
  let last: unknown
  for (const maximum of [maxPages, 16384, 4096]) {
    if (maximum > maxPages) continue
    try {
      return new WebAssembly.Memory({ initial: 16, maximum, shared } as WebAssembly.MemoryDescriptor)
    } catch (e) { last = e }
  }
  throw new Error(`cannot make the fast CPU backend's memory: ${(last as Error).message}`)
}

/** Whether Atomics.wait may block here (not on a page's main thread). */
function agentCanBlock(ctl: Int32Array): boolean {
  if (typeof SharedArrayBuffer !== 'function' || !(ctl.buffer instanceof SharedArrayBuffer)) return false
  try {
    Atomics.wait(ctl, CTL_STOP, 1, 0) // the value is 0: returns at once, or throws where blocking is not allowed
    return true
  } catch {
    return false
  }
}
