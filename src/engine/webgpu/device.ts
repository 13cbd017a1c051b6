// Acquire a WebGPU device from any `GPU` object: navigator.gpu in a page or a worker,
// or the `webgpu` package (Dawn) in Node. Fails loudly: tests never skip for a missing adapter.

import type { AdapterDescription } from '../backend'
import { WebGPUBackend } from './webgpuBackend'
import { kernelNeeds, requiredLimits } from './limits'
import type { ShaderSources } from './shaderSources'

export class NoAdapterError extends Error {}

export async function createWebGPUBackend(gpu: GPU | undefined, sources: ShaderSources,
  hint = ''): Promise<WebGPUBackend> {
  if (!gpu) throw new NoAdapterError(`WebGPU is not available here${hint ? `: ${hint}` : ''}`)
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  if (!adapter) throw new NoAdapterError(`no WebGPU adapter could be had${hint ? `: ${hint}` : ''}`)
  // what the kernels need (from their source) against what the adapter offers: a clear refusal
  // here, naming the limit, rather than a pipeline that fails to build later
  const device = await adapter.requestDevice({
    requiredLimits: requiredLimits(adapterLimits(adapter.limits), kernelNeeds(sources)),
  })
  const info = adapter.info
  const description: AdapterDescription = {
    backend: 'webgpu',
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  }
  const backend = new WebGPUBackend(device, description, sources)
  await backend.compileShaders()
  return backend
}

/** GPUSupportedLimits as a plain record (its fields are getters on the prototype, not own keys). */
function adapterLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {}
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const v = (limits as unknown as Record<string, unknown>)[key]
      if (typeof v === 'number') out[key] = v
    }
  }
  return out
}
