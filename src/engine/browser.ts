// The engine in a page or a Web Worker: navigator.gpu, kernels bundled from shaders/ by Vite.
// Without WebGPU the caller falls back to the fast CPU backend (WebAssembly, when the caller
// supplies it: src/engine/cpu/fastCpuBrowser.ts), else to the reference CPU backend, and says so.
import type { AdapterDescription, Backend } from './backend'
import { CpuBackend } from './cpu/cpuBackend'
import { createWebGPUBackend } from './webgpu/device'
import type { ShaderSources } from './webgpu/shaderSources'

const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>

export const shaderSources: ShaderSources = Object.fromEntries(
  Object.entries(files).map(([path, code]) => [path.replace(/^.*\//, '').replace(/\.wgsl$/, ''), code]))

export interface BackendChoice {
  backend: Backend
  /** why a CPU backend was chosen instead of WebGPU, when it was */
  fallbackReason?: string
}

/** webgpu; cpu: the fast CPU backend; reference: the plain TypeScript one (the twin of the others). */
export type BackendPreference = 'webgpu' | 'cpu' | 'reference'

/** The reference CPU backend standing in for the fast one, its description saying why. */
class ReferenceInstead extends CpuBackend {
  constructor(private readonly why: string) { super('f32') }
  override describe(): AdapterDescription {
    const d = super.describe()
    return { ...d, description: `${d.description}: ${this.why}` }
  }
}

/** `fastCpu` starts the fast CPU backend (left out: the reference one serves instead). */
export async function createBrowserBackend(prefer: BackendPreference = 'webgpu',
  fastCpu?: () => Promise<Backend>): Promise<BackendChoice> {
  const cpu = async (): Promise<Backend> => {
    if (prefer === 'reference' || !fastCpu) return new CpuBackend('f32')
    try {
      return await fastCpu()
    } catch (e) {
      return new ReferenceInstead(`the fast CPU backend could not start (${(e as Error).message})`)
    }
  }
  if (prefer !== 'webgpu') return { backend: await cpu() }
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu
  try {
    return { backend: await createWebGPUBackend(gpu, shaderSources, 'this browser offers no WebGPU') }
  } catch (e) {
    return { backend: await cpu(), fallbackReason: (e as Error).message }
  }
}
