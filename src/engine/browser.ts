// The engine in a page or a Web Worker: navigator.gpu, kernels bundled from shaders/ by Vite.
// Without WebGPU the caller falls back to the CPU backend, and says so.
import type { Backend } from './backend'
import { CpuBackend } from './cpu/cpuBackend'
import { createWebGPUBackend } from './webgpu/device'
import type { ShaderSources } from './webgpu/shaderSources'

const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<string, string>

export const shaderSources: ShaderSources = Object.fromEntries(
  Object.entries(files).map(([path, code]) => [path.replace(/^.*\//, '').replace(/\.wgsl$/, ''), code]))

export interface BackendChoice {
  backend: Backend
  /** why the CPU backend was chosen, when it was */
  fallbackReason?: string
}

export async function createBrowserBackend(prefer: 'webgpu' | 'cpu' = 'webgpu'): Promise<BackendChoice> {
  if (prefer === 'cpu') return { backend: new CpuBackend('f32') }
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu
  try {
    return { backend: await createWebGPUBackend(gpu, shaderSources, 'this browser offers no WebGPU') }
  } catch (e) {
    return { backend: new CpuBackend('f32'), fallbackReason: (e as Error).message }
  }
}
