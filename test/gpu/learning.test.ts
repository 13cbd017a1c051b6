// Learning: next-token training on the synthetic rhyme brings the loss from ln(V) ≈ 2.7 to
// below 0.25 (mean of the last 10 of 150 steps), on WebGPU and on both CPU backends.
// Measured here: all reach ≈ 0.1 by step 100; reference CPU ≈ 2.6 s, fast CPU (2 threads) ≈ 0.45 s,
// SwiftShader ≈ 5.6 s for 150 steps.
import { describe, expect, it } from 'vitest'
import type { Backend } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { createFastCpuBackend } from '../../src/engine/cpu/fastCpuNode'
import { GPT } from '../../src/model/gpt'
import { AdamW } from '../../src/model/optimizer'
import { nextTokenStep } from '../../src/model/train'
import { rhymeBatch, rhymeTokenizer } from '../../src/tasks/synthetic'
import { useGpu } from '../helpers'

/** an outer limit only: the run is done when its steps are, however loaded the machine */
const LONG = { timeout: 10 * 60_000 }

const STEPS = 150
const THRESHOLD = 0.25

async function train(be: Backend): Promise<number[]> {
  const tok = rhymeTokenizer()
  const model = new GPT(be, { vocabSize: tok.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 32 })
  model.initialize(1)
  const opt = new AdamW(model, { learningRate: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 })
  const losses: number[] = []
  for (let s = 0; s < STEPS; s++) losses.push(await nextTokenStep(model, opt, rhymeBatch(tok, 8, 32, 1, s)))
  return losses
}

function check(losses: number[]): void {
  expect(losses[0]).toBeGreaterThan(2.4) // chance level: ln(15) ≈ 2.71
  const tail = losses.slice(-10).reduce((a, b) => a + b, 0) / 10
  expect(tail).toBeLessThan(THRESHOLD)
}

describe(`next-token training reaches loss < ${THRESHOLD} within ${STEPS} steps`, () => {
  it('on the reference CPU backend', LONG, async () => { check(await train(new CpuBackend('f32'))) })
  it('on the fast CPU backend (WebAssembly SIMD, every core)', LONG, async () => {
    const be = await createFastCpuBackend()
    try { check(await train(be)) } finally { be.destroy() }
  })
  describe('on WebGPU', () => {
    const gpu = useGpu()
    it('learns', LONG, async () => { check(await train(gpu())) })
  })
})
