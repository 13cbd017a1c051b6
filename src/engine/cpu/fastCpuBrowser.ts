// The fast CPU backend in a page: the kernels bundled by Vite (built by scripts/build-wasm.mjs,
// which vite.config.ts runs first), one Web Worker per core beside the calling thread (the lab's
// training worker) when the page is cross-origin isolated, else one thread and a note saying why.
import sharedRelaxedUrl from './assembly/build/kernels-shared-relaxed.wasm?url'
import sharedUrl from './assembly/build/kernels-shared.wasm?url'
import relaxedUrl from './assembly/build/kernels-relaxed.wasm?url'
import plainUrl from './assembly/build/kernels.wasm?url'
import { FastCpuBackend } from './fastCpuBackend'
import { type KernelThread, WasmKernels } from './wasmKernels'

/** the most threads a page starts (past this, tiny models gain nothing) */
const MAX_THREADS = 16
/** 64 Ki pages, as scripts/build-wasm.mjs declares */
const MAX_PAGES = 65536

/** Why this page runs the fast CPU backend on one thread, or null when it can run threads. */
export function singleThreadReason(): string | null {
  if (typeof SharedArrayBuffer !== 'function' || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== true) {
    return 'the page is not cross-origin isolated, so it has no SharedArrayBuffer (see the README on COOP/COEP headers)'
  }
  if (typeof Worker !== 'function') return 'no Web Workers here'
  return null
}

export async function createBrowserFastCpuBackend(): Promise<FastCpuBackend> {
  const note = singleThreadReason()
  const shared = note === null
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 1
  const threads = shared ? Math.max(1, Math.min(MAX_THREADS, cores)) : 1
  const bytesOf = async (url: string) => {
    const r = await fetch(url)
    if (!r.ok) throw new Error(`the fast CPU kernels (${url}): HTTP ${r.status}`)
    return r.arrayBuffer()
  }
  let relaxed = true
  let bytes = await bytesOf(shared ? sharedRelaxedUrl : relaxedUrl)
  if (!WebAssembly.validate(bytes)) {
    relaxed = false
    bytes = await bytesOf(shared ? sharedUrl : plainUrl)
    if (!WebAssembly.validate(bytes)) throw new Error('this browser\'s WebAssembly has no SIMD')
  }
  const kernels = await WasmKernels.create({
    module: await WebAssembly.compile(bytes), shared, relaxed, threads, maxPages: MAX_PAGES, spawn: webWorkerThread,
  })
  return new FastCpuBackend(kernels, note ? { note } : {})
}

function webWorkerThread(): KernelThread {
  const w = new Worker(new URL('./kernelThread.browser.mjs', import.meta.url), { type: 'module', name: 'grpo-lab kernels' })
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => w.addEventListener('message', (e) => f(e.data)),
    onError: (f) => w.addEventListener('error', (e) => f(new Error(e.message || 'the kernel worker failed to load'))),
    terminate: () => w.terminate(),
  }
}
