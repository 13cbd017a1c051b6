// Acquire a WebGPU device from any `GPU` object: navigator.gpu in a page or a worker,
// or the `webgpu` package (Dawn) in Node. Fails loudly: tests never skip for a missing adapter.

import type { AdapterDescription } from '../backend'
import { WebGPUBackend } from './webgpuBackend'
import { adapterLimits, kernelNeeds, requiredLimits } from './limits'
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

