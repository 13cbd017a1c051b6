// Shared by the tests: backends, random data, comparisons.
import { afterAll, expect } from 'vitest'
import type { Backend, Tensor } from '../src/engine/backend'
import { whole } from '../src/engine/backend'
import { createNodeWebGPUBackend } from '../src/engine/node'
import { uniform } from '../src/engine/rng'
import type { WebGPUBackend } from '../src/engine/webgpu/webgpuBackend'

/** The WebGPU backend for a test file; fails (never skips) when no adapter can be had. */
export async function gpuBackend(): Promise<WebGPUBackend> {
  const gpu = await createNodeWebGPUBackend()
  gpu.device.pushErrorScope('validation')
  afterAll(async () => {
    const err = await gpu.device.popErrorScope()
    gpu.destroy()
    expect(err?.message ?? null).toBeNull()
  })
  return gpu
}

/** Deterministic pseudo-random values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  const a = new Float64Array(n)
  for (let i = 0; i < n; i++) a[i] = (uniform(seed, 99, i, 0) * 2 - 1) * scale
  return a
}

export function randomInts(n: number, seed: number, max: number): Uint32Array {
  const a = new Uint32Array(n)
  for (let i = 0; i < n; i++) a[i] = Math.floor(uniform(seed, 98, i, 0) * max)
  return a
}

export function upload(be: Backend, data: ArrayLike<number>, dtype: 'f32' | 'u32' = 'f32', label = 'data'): Tensor {
  const t = whole(be.createBuffer(data.length, dtype, label))
  be.write(t, data)
  return t
}

export function zeros(be: Backend, n: number, label = 'zeros', dtype: 'f32' | 'u32' = 'f32'): Tensor {
  const t = whole(be.createBuffer(n, dtype, label))
  be.fill(t, 0)
  return t
}

/** max |a − b| / (atol + rtol·|b|) ≤ 1, reported with the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = ''): void {
  expect(actual.length).toBe(expected.length)
  let worst = 0; let at = -1
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / (atol + rtol * Math.abs(expected[i]))
    if (!(err <= worst)) { worst = err; at = i }
  }
  if (!(worst <= 1)) {
    throw new Error(`${what} differs at ${at}: ${actual[at]} vs ${expected[at]} (atol ${atol}, rtol ${rtol})`)
  }
}
