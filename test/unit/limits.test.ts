// What the kernels need of a device, read from their WGSL: every entry point within the limits
// WebGPU guarantees, the reader itself on a module with known answers, and the device limits
// that follow (requested only above the defaults; refused, by name, when an adapter offers less).
import { describe, expect, it } from 'vitest'
import { loadShaderSourcesFromDisk } from '../../src/engine/node'
import {
  checkBufferSize, GUARANTEED_LIMITS, kernelLimits, kernelNeeds, LimitError, requiredLimits,
} from '../../src/engine/webgpu/limits'

const needs = kernelNeeds(loadShaderSourcesFromDisk())
const guaranteed: Record<string, number> = { ...GUARANTEED_LIMITS }

describe('kernel needs from the WGSL source', () => {
  it('finds every compute entry point of shaders/', () => {
    const sources = loadShaderSourcesFromDisk()
    const declared = Object.values(sources).reduce((n, code) => n + (code.match(/@compute\b/g)?.length ?? 0), 0)
    expect(needs.length).toBe(declared)
    expect(needs.map((e) => `${e.module}.${e.entry}`)).toContain('attention.forward')
    expect(needs.map((e) => `${e.module}.${e.entry}`)).toContain('decode.decode')
  })

  it.each(needs.map((e) => [`${e.module}.${e.entry}`, e] as const))('%s stays within what every adapter offers', (_name, e) => {
    expect(e.storageBindings.length).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxStorageBuffersPerShaderStage)
    expect(e.uniformBindings.length).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxUniformBuffersPerShaderStage)
    expect(e.workgroupBytes).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxComputeWorkgroupStorageSize)
    const [x, y, z] = e.workgroupSize
    expect(x * y * z).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxComputeInvocationsPerWorkgroup)
    expect(x).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxComputeWorkgroupSizeX)
    expect(y).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxComputeWorkgroupSizeY)
    expect(z).toBeLessThanOrEqual(GUARANTEED_LIMITS.maxComputeWorkgroupSizeZ)
  })

  it('counts only what an entry point uses, through the functions it calls, as WebGPU sizes it', () => {
    const sources = {
      lib: 'var<workgroup> shared_vec: array<vec3<f32>, 10>; // 160 bytes\nfn helper() -> f32 { return b[0] + shared_vec[0].x; }',
      k: `#include "lib.wgsl"
struct Pair { a: f32, v: vec2<f32> }
const N: u32 = 17u;
@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<uniform> p: Pair;
@group(0) @binding(3) var<storage, read> unused: array<f32>;
var<workgroup> grid: array<array<f32, N>, 3>; // 204 → 208 bytes
var<workgroup> one: f32;                      // 4 → 16 bytes
var<workgroup> pairs: array<Pair, 2>;         // 2 × 16 = 32 bytes
fn middle() -> f32 { return helper() + f32(N); }
/* fn commented(){ unused[0]; } */
@compute @workgroup_size(8, 4)
fn first(@builtin(local_invocation_index) lid: u32) { a[lid] = middle() + grid[0][lid] + p.a; }
@compute @workgroup_size(64)
fn second() { one = 1.0; pairs[0].a = one; a[0] = one; }`,
    }
    const got = Object.fromEntries(kernelNeeds(sources).map((e) => [e.entry, e]))
    expect(got.first).toEqual({ module: 'k', entry: 'first', storageBindings: [0, 1], uniformBindings: [2], workgroupBytes: 160 + 208, workgroupSize: [8, 4, 1] })
    expect(got.second).toEqual({ module: 'k', entry: 'second', storageBindings: [0], uniformBindings: [], workgroupBytes: 16 + 32, workgroupSize: [64, 1, 1] })
  })

  it('refuses what it cannot read, saying what', () => {
    expect(() => kernelNeeds({ k: '@compute @workgroup_size(SIZE) fn f() {}' })).toThrow(/SIZE/)
    expect(() => kernelNeeds({ k: 'var<workgroup> w: array<f32, COUNT>;\n@compute @workgroup_size(1) fn f() { w[0] = 1.0; }' })).toThrow(/COUNT/)
  })
})

describe('device limits', () => {
  it('an adapter with only the defaults is enough: no kernel limit is requested, buffers at what it offers', () => {
    expect(requiredLimits(guaranteed, needs)).toEqual({
      maxStorageBufferBindingSize: GUARANTEED_LIMITS.maxStorageBufferBindingSize, maxBufferSize: GUARANTEED_LIMITS.maxBufferSize,
    })
    const big = { ...guaranteed, maxComputeWorkgroupStorageSize: 65536, maxStorageBuffersPerShaderStage: 16, maxBufferSize: 2 ** 32 }
    expect(requiredLimits(big, needs)).toEqual({ maxStorageBufferBindingSize: GUARANTEED_LIMITS.maxStorageBufferBindingSize, maxBufferSize: 2 ** 32 })
  })

  it.each([
    ['maxComputeWorkgroupStorageSize', 4096], ['maxStorageBuffersPerShaderStage', 4], ['maxComputeInvocationsPerWorkgroup', 128],
  ] as const)('an adapter offering %s = %s is refused, naming the limit and the kernel that needs more', (limit, offered) => {
    const { need, by } = kernelLimits(needs)[limit]
    expect(need).toBeGreaterThan(offered)
    let error: unknown
    try { requiredLimits({ ...guaranteed, [limit]: offered }, needs) } catch (e) { error = e }
    expect(error).toBeInstanceOf(LimitError)
    expect((error as LimitError).limit).toBe(limit)
    expect((error as Error).message).toContain(`${by} needs ${need}, and this adapter offers ${offered}`)
  })

  it('a kernel past a default is requested at what it needs, not at the adapter\'s most', () => {
    const wide = kernelNeeds({ k: 'var<workgroup> w: array<f32, 6000>;\n@compute @workgroup_size(512) fn f() { w[0] = 1.0; }' })
    const adapter = { ...guaranteed, maxComputeWorkgroupStorageSize: 65536, maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024 }
    expect(requiredLimits(adapter, wide)).toMatchObject({
      maxComputeWorkgroupStorageSize: 24000, maxComputeInvocationsPerWorkgroup: 512, maxComputeWorkgroupSizeX: 512,
    })
  })

  it('a buffer past the device\'s limits is refused with its name and the limit', () => {
    const limits = { maxBufferSize: 1 << 20, maxStorageBufferBindingSize: 1 << 19 }
    expect(() => checkBufferSize('att.0', 1 << 19, limits)).not.toThrow()
    expect(() => checkBufferSize('att.0', (1 << 19) + 256, limits)).toThrow(/^maxStorageBufferBindingSize: buffer 'att.0' needs 524544 bytes/)
    expect(() => checkBufferSize('att.0', (1 << 20) + 256, limits)).toThrow(/^maxBufferSize: buffer 'att.0'/)
  })
})
