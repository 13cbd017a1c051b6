// Long runs do not leak: 1 000 GRPO steps, with an evaluation every 10 steps and a snapshot
// every 5 (as the lab's worker does), on every backend. The engine's live buffers and bytes
// are the same at step 1 000 as at step 10, and the JS heap stays within HEAP_BOUND; the fast CPU
// backend's WebAssembly memory (its allocator's free blocks reused) does not grow after step 10.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import type { Backend } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { FastCpuBackend } from '../../src/engine/cpu/fastCpuBackend'
import { createFastCpuBackend } from '../../src/engine/cpu/fastCpuNode'
import { SNAPSHOT_EVERY } from '../../src/lab/protocol'
import { ECHO_VALUES } from '../../src/lab/presets'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'
import { useGpu } from '../helpers'

// The echo toy, smaller (4 completions of 2 prompts, width 16) so that 1 000 WebGPU steps on
// SwiftShader take about a minute; β > 0 so that the reference model runs too. Every op of a
// step runs: rollout (fused decode + sampling), rewards, advantages, reference log-probs,
// loss, backward, AdamW; plus greedy evaluation and snapshots.
const SOAK = resolveRunConfig({
  ...ECHO_VALUES, num_generations: 4, prompts_per_step: 2, n_embd: 16, beta: 0.04,
  eval_every: 10, eval_problems: 8, max_steps: 1000,
})
const MEASURE_AT = [10, 1000]
/** Allowed JS heap growth from step 10 to step 1 000, after a full GC. */
const HEAP_BOUND = 4 * 1024 * 1024

// a full garbage collection without starting Node with --expose-gc
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

async function soak(be: Backend) {
  const t = GRPOTrainer.create(be, SOAK, getTask('echo'))
  const at: Record<number, { liveBuffers: number; bytesAllocated: number; heapUsed: number; memory: number }> = {}
  while (t.step < SOAK.max_steps) {
    await t.trainStep()
    if (t.step % SOAK.eval_every === 0) await t.evaluate()
    if (t.step % SNAPSHOT_EVERY === 0) await t.snapshot()
    if (MEASURE_AT.includes(t.step)) {
      gc()
      const memory = be instanceof FastCpuBackend ? be.kernels.memory.buffer.byteLength : 0
      at[t.step] = { liveBuffers: be.counters.liveBuffers, bytesAllocated: be.counters.bytesAllocated, heapUsed: process.memoryUsage().heapUsed, memory }
    }
  }
  t.destroy()
  console.log(`soak ${be.describe().description}: ${JSON.stringify(at)}`)
  return { early: at[10], late: at[1000] }
}

describe('1 000-step soak', () => {
  const gpu = useGpu()
  for (const kind of ['reference', 'fast cpu', 'webgpu'] as const) {
    it(`${kind}: buffers and bytes at step 1 000 equal step 10's; heap within ${HEAP_BOUND / 2 ** 20} MiB`, async () => {
      const be = kind === 'reference' ? new CpuBackend('f32') : kind === 'fast cpu' ? await createFastCpuBackend() : gpu()
      const { early, late } = await soak(be)
      expect(early.liveBuffers).toBeGreaterThan(0)
      expect(late.liveBuffers).toBe(early.liveBuffers)
      expect(late.bytesAllocated).toBe(early.bytesAllocated)
      expect(late.heapUsed - early.heapUsed).toBeLessThan(HEAP_BOUND)
      expect(late.memory).toBe(early.memory)
      if (kind === 'fast cpu') be.destroy()
    }, 600_000)
  }
})
