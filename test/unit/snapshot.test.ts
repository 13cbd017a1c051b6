// A resumed run continues exactly: snapshot after two steps, restore into a fresh trainer, and
// its third step equals the third step of the run that never stopped.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { ECHO_VALUES } from '../../src/lab/presets'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'

const timing = ['step_time']
const strip = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !timing.includes(k)))

describe('trainer snapshot / restore', () => {
  for (const beta of [0, 0.04]) {
    it(`resumes bit for bit (beta ${beta})`, async () => {
      const config = resolveRunConfig({ ...ECHO_VALUES, beta, num_iterations: 2 })
      const a = GRPOTrainer.create(new CpuBackend('f32'), config, getTask('echo'))
      await a.trainStep(); await a.trainStep()
      const snap = await a.snapshot()
      const third = await a.trainStep()

      const b = GRPOTrainer.create(new CpuBackend('f32'), config, getTask('echo'))
      b.restore(snap)
      const resumed = await b.trainStep()
      expect(strip(resumed.metrics)).toEqual(strip(third.metrics))
      expect(resumed.trace).toEqual(third.trace)
    })
  }

  it('refuses a snapshot of another model shape', async () => {
    const a = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig(ECHO_VALUES), getTask('echo'))
    const b = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig({ ...ECHO_VALUES, n_embd: 16 }), getTask('echo'))
    expect(() => b.restore({ params: new Float32Array(3), adamM: new Float32Array(3), adamV: new Float32Array(3), refParams: null, step: 1, problemCursor: 8, optStep: 1 }))
      .toThrow(/snapshot: params/)
    a.destroy(); b.destroy()
  })
})
