// The fast CPU backend in Node: the kernels from src/engine/cpu/assembly/build/ (built first when
// missing or stale, by scripts/build-wasm.mjs), one worker_threads thread per core beside the
// calling one, and relaxed SIMD where this Node's engine validates it.
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { buildWasm, MAX_PAGES, WASM_BUILD_DIR } from '../../../scripts/build-wasm.mjs'
import { FastCpuBackend } from './fastCpuBackend'
import { type KernelThread, WasmKernels } from './wasmKernels'

const THREAD_ENTRY = new URL('./kernelThread.node.mjs', import.meta.url)

export interface NodeFastCpuOptions {
  /** threads in all, the calling one included (default: defaultThreads()) */
  threads?: number
  /** use relaxed SIMD's fused multiply-add when the engine has it (default true) */
  relaxed?: boolean
}

/** past this many threads a tiny model's kernels are too small to share out */
const MAX_DEFAULT_THREADS = 16

/** Every core Node may use, up to MAX_DEFAULT_THREADS. */
export function defaultThreads(): number { return Math.min(MAX_DEFAULT_THREADS, availableParallelism()) }

export async function createFastCpuBackend(o: NodeFastCpuOptions = {}): Promise<FastCpuBackend> {
  await buildWasm()
  const threads = o.threads ?? defaultThreads()
  const relaxedBytes = readFileSync(join(WASM_BUILD_DIR, 'kernels-shared-relaxed.wasm'))
  const relaxed = (o.relaxed ?? true) && WebAssembly.validate(relaxedBytes)
  const bytes = relaxed ? relaxedBytes : readFileSync(join(WASM_BUILD_DIR, 'kernels-shared.wasm'))
  const kernels = await WasmKernels.create({
    module: await WebAssembly.compile(bytes), shared: true, relaxed, threads, maxPages: MAX_PAGES, spawn: nodeThread,
  })
  return new FastCpuBackend(kernels)
}

function nodeThread(): KernelThread {
  const w = new Worker(THREAD_ENTRY)
  w.unref() // a process that forgot destroy() still exits
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => { w.on('message', f) },
    onError: (f) => { w.on('error', f) },
    terminate: () => { void w.terminate() },
  }
}
