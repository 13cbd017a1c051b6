// The fast CPU backend gives the same numbers, bit for bit, on any number of threads: whole GRPO
// steps (rollout with the fused decoder, reference and old log-probs, μ = 2 passes with an entropy
// bonus and KL, AdamW) on 1, 2 and 3 threads leave identical weights, AdamW moments, metrics and
// completions. Each kernel is split into parts by the thread count (1 part on one thread, up to 3
// per thread otherwise), so this holds only if no output depends on the part it falls in.
import { describe, expect, it } from 'vitest'
import { createFastCpuBackend } from '../../src/engine/cpu/fastCpuNode'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'

const CONFIG = {
  task: 'echo', seed: 3, n_layer: 2, n_head: 2, n_embd: 32, block_size: 16,
  num_generations: 8, prompts_per_step: 8, max_completion_length: 6, learning_rate: 5e-3, loss_type: 'grpo',
  temperature: 0.8, beta: 0.04, num_iterations: 2, entropy_coef: 0.01,
}
const STEPS = 3

async function run(threads: number) {
  const be = await createFastCpuBackend({ threads })
  const trainer = GRPOTrainer.create(be, resolveRunConfig(CONFIG), getTask('echo'))
  const metrics: Record<string, number>[] = []
  const texts: string[][] = []
  for (let s = 0; s < STEPS; s++) {
    const r = await trainer.trainStep()
    // everything but the clock
    const { step_time: _, ...rest } = r.metrics
    metrics.push(rest)
    texts.push(r.trace.groups.flatMap((g) => g.completions.map((c) => c.text)))
  }
  const snap = await trainer.snapshot()
  trainer.destroy()
  be.destroy()
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))
  return { metrics, texts, params: bits(snap.params), m: bits(snap.adamM), v: bits(snap.adamV), description: be.describe().description }
}

describe('the fast CPU backend is deterministic across thread counts', () => {
  it(`${STEPS} GRPO steps on 1, 2 and 3 threads give the same bits`, { timeout: 120_000 }, async () => {
    const one = await run(1)
    expect(one.description).toMatch(/1 thread\)$/)
    for (const threads of [2, 3]) {
      const other = await run(threads)
      expect(other.description).toMatch(new RegExp(`${threads} threads\\)$`))
      expect(other.texts).toEqual(one.texts)
      expect(other.metrics).toEqual(one.metrics)
      // whole arrays compared as bits: toEqual would call −0 and +0, or two NaNs, the same
      expect(other.params).toEqual(one.params)
      expect(other.m).toEqual(one.m)
      expect(other.v).toEqual(one.v)
    }
    // the run trained: the weights moved and the loss had a gradient
    expect(one.metrics[STEPS - 1].grad_norm).toBeGreaterThan(0)
  })
})
