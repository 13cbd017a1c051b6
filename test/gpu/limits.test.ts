// The kernels' needs read from their WGSL (src/engine/webgpu/limits.ts) against a real device:
// every entry point builds its pipeline (layout 'auto': only what it uses counts), and a bind
// group of exactly the bindings the reader found fits that layout — so the reader's counts are
// the ones WebGPU validates. And a device is refused, by the limit's name, on an adapter that
// offers less than a kernel needs.
import { describe, expect, it } from 'vitest'
import { loadShaderSourcesFromDisk } from '../../src/engine/node'
import { createWebGPUBackend } from '../../src/engine/webgpu/device'
import { adapterLimits, type EntryPointNeeds, GUARANTEED_LIMITS, kernelLimits, kernelNeeds } from '../../src/engine/webgpu/limits'
import { resolveIncludes } from '../../src/engine/webgpu/shaderSources'
import { whole } from '../../src/engine/backend'
import { GPT } from '../../src/model/gpt'
import { useGpu } from '../helpers'

const gpu = useGpu()
const sources = loadShaderSourcesFromDisk()
const needs = kernelNeeds(sources)

/** Build the entry point's pipeline and a bind group of `storage` and `uniform` bindings; the validation error, if any. */
async function bindExactly(e: EntryPointNeeds, storage: number[], uniform: number[]): Promise<string | null> {
  const dev = gpu().device
  dev.pushErrorScope('validation')
  const module = dev.createShaderModule({ code: resolveIncludes(e.module, sources), label: e.module })
  const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: e.entry } })
  const buffers: GPUBuffer[] = []
  const entry = (binding: number, usage: number): GPUBindGroupEntry => {
    const buffer = dev.createBuffer({ size: 256, usage })
    buffers.push(buffer)
    return { binding, resource: { buffer } }
  }
  dev.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [...storage.map((b) => entry(b, GPUBufferUsage.STORAGE)), ...uniform.map((b) => entry(b, GPUBufferUsage.UNIFORM))],
  })
  const error = await dev.popErrorScope()
  buffers.forEach((b) => b.destroy())
  return error ? error.message : null
}

describe('the kernels on the device', () => {
  it('every entry point builds, and binds exactly the buffers its source uses', async () => {
    const failures: string[] = []
    for (const e of needs) {
      const error = await bindExactly(e, e.storageBindings, e.uniformBindings)
      if (error) failures.push(`${e.module}.${e.entry}: ${error}`)
    }
    expect(failures).toEqual([])
  })

  it('a bind group missing one of them does not fit (the check above can fail)', async () => {
    const e = needs.find((x) => x.module === 'attention' && x.entry === 'forward')!
    expect(await bindExactly(e, e.storageBindings.slice(1), e.uniformBindings)).toMatch(/binding/i)
  })

  it('the device has what the kernels need', () => {
    const limits = gpu().device.limits as unknown as Record<string, number>
    for (const [limit, { need }] of Object.entries(kernelLimits(needs))) expect(limits[limit], limit).toBeGreaterThanOrEqual(need)
  })

  it('an adapter offering fewer storage buffers per stage than the fused decoder binds is refused, naming the limit', async () => {
    const { create } = await import('webgpu')
    const real = await create([]).requestAdapter()
    expect(real, 'a WebGPU adapter').toBeTruthy()
    const offered = adapterLimits(real!.limits)
    expect(offered.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(GUARANTEED_LIMITS.maxStorageBuffersPerShaderStage)
    expect(offered.maxBufferSize).toBeGreaterThanOrEqual(GUARANTEED_LIMITS.maxBufferSize)
    // the same adapter's limits, one lowered: device.ts must refuse before it asks for a device
    const stingy = {
      requestAdapter: async () => ({
        limits: { ...offered, maxStorageBuffersPerShaderStage: 4 },
        requestDevice: async () => { throw new Error('requestDevice should not be reached') },
      }),
    } as unknown as GPU
    await expect(createWebGPUBackend(stingy, sources)).rejects.toThrow(
      /^maxStorageBuffersPerShaderStage: shaders\/decode\.wgsl decode needs 8, and this adapter offers 4 \(WebGPU guarantees 8\)$/)
  })

  it('a buffer past the device\'s limits is refused with its name, before anything is allocated', () => {
    const { maxBufferSize, maxStorageBufferBindingSize } = gpu().device.limits
    const before = gpu().counters.bytesAllocated
    expect(() => gpu().createBuffer(Math.min(maxBufferSize, maxStorageBufferBindingSize) / 4 + 64, 'f32', 'huge'))
      .toThrow(/^(maxBufferSize|maxStorageBufferBindingSize): buffer 'huge' needs \d+ bytes, and this device allows \d+/)
    expect(gpu().counters.bytesAllocated).toBe(before)
    // a whole model's batch: the attention probabilities are B·NH·T² floats (here 2 GiB)
    const model = new GPT(gpu(), { vocabSize: 13, blockSize: 1024, nLayer: 1, nHead: 16, nEmbd: 16 })
    expect(() => model.activations(32, 1024)).toThrow(/buffer 'att\.0' needs 2147483648 bytes/)
    model.destroy()
  })

  it('a grid past the device\'s workgroups per dimension is refused with the limit\'s name', () => {
    const most = gpu().device.limits.maxComputeWorkgroupsPerDimension
    const t = whole(gpu().createBuffer(64, 'f32', 'small')); const u = whole(gpu().createBuffer(64, 'u32', 'small-u32'))
    expect(() => gpu().decodePositions({
      tokens: u, params: t, offsets: u, offsetList: [], kCache: t, vCache: t, scratch: t, promptLens: u, done: u,
      N: most + 1, V: 2, C: 4, NH: 1, L: 1, maxLen: 2, posBegin: 0, posEnd: 1, maxNew: 1, temperature: 1, topK: 0, eosId: 0, seed: 1, stream: 0,
    })).toThrow(`maxComputeWorkgroupsPerDimension: decode.decode needs ${most + 1} × 1 × 1 workgroups, and this device allows ${most} per dimension`)
  })
})
