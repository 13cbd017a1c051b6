// GRPO learns: on the toy echo task a freshly initialised 1-layer policy starts at chance
// (mean reward ≈ 0.05 of a possible 1.5; exact answers ≈ 1%) and, rewarded by rules only,
// reaches accuracy ≥ 0.9 (mean of steps 141–150) within 150 steps, on every backend (WebGPU, the
// reference CPU backend, the fast CPU backend).
// Measured here: all reach 1.0 by step ~130; reference CPU ≈ 27 ms/step, fast CPU (2 threads) ≈ 5 ms/step,
// SwiftShader ≈ 130 ms/step.
import { describe, expect, it } from 'vitest'
import type { Backend } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { createFastCpuBackend } from '../../src/engine/cpu/fastCpuNode'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'
import { useGpu } from '../helpers'

/** an outer limit only: the run is done when its steps are, however loaded the machine */
const LONG = { timeout: 10 * 60_000 }

const STEPS = 150

export const ECHO_CONFIG = {
  task: 'echo', seed: 1, n_layer: 1, n_head: 2, n_embd: 32, block_size: 16,
  num_generations: 8, prompts_per_step: 8, max_completion_length: 4, learning_rate: 5e-3, loss_type: 'grpo',
}

async function run(be: Backend): Promise<{ reward: number[]; accuracy: number[] }> {
  const trainer = GRPOTrainer.create(be, resolveRunConfig(ECHO_CONFIG), getTask('echo'))
  const reward: number[] = []; const accuracy: number[] = []
  for (let s = 0; s < STEPS; s++) {
    const { metrics } = await trainer.trainStep()
    reward.push(metrics.reward); accuracy.push(metrics.accuracy)
  }
  return { reward, accuracy }
}

function check({ reward, accuracy }: { reward: number[]; accuracy: number[] }): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  expect(mean(reward.slice(0, 5))).toBeLessThan(0.2) // chance
  expect(mean(accuracy.slice(0, 5))).toBeLessThan(0.05)
  expect(mean(accuracy.slice(-10))).toBeGreaterThanOrEqual(0.9)
}

describe(`GRPO raises a fresh policy from chance to accuracy ≥ 0.9 within ${STEPS} steps (echo task)`, () => {
  it('on the reference CPU backend', LONG, async () => { check(await run(new CpuBackend('f32'))) })
  it('on the fast CPU backend (WebAssembly SIMD, every core)', LONG, async () => {
    const be = await createFastCpuBackend()
    try { check(await run(be)) } finally { be.destroy() }
  })
  describe('on WebGPU', () => {
    const gpu = useGpu()
    it('learns', LONG, async () => { check(await run(gpu())) })
  })
})
