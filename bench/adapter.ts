// What the benchmark's adapter offers, for the results: a number measured on one GPU means
// little without its limits and features (the kernels need only WebGPU's guaranteed limits;
// src/engine/webgpu/limits.ts), and what the engine's device was given.
import { adapterLimits } from '../src/engine/webgpu/limits'

export interface AdapterCapabilities {
  /** every numeric limit the adapter reports, by its WebGPU name */
  limits: Record<string, number>
  /** the adapter's features, sorted */
  features: string[]
  /** the limits of the device the engine requested (the defaults but for the buffer sizes) */
  device_limits: Record<string, number>
}

export async function adapterCapabilities(gpu: GPU, device: GPUDevice): Promise<AdapterCapabilities | { error: string }> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }) // as the engine asks for one
  if (!adapter) return { error: 'no adapter on a second request' }
  return { limits: adapterLimits(adapter.limits), features: [...adapter.features].sort(), device_limits: adapterLimits(device.limits) }
}
