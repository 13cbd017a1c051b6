// A lost GPU device, for real: GPUDevice.destroy() resolves device.lost as a driver reset does.
// The step in flight fails with a DeviceLostError; a trainer on a new device, restored from the
// last snapshot, recomputes the steps after it bit for bit and goes on as if nothing happened.
import { describe, expect, it } from 'vitest'
import { DeviceLostError } from '../../src/engine/backend'
import { createNodeWebGPUBackend } from '../../src/engine/node'
import { ECHO_VALUES } from '../../src/lab/presets'
import { DEFAULT_PRETRAIN, pretrain } from '../../src/lab/pretrain'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer, type StepResult } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'
import { useGpu } from '../helpers'

const config = resolveRunConfig({ ...ECHO_VALUES, num_generations: 4, prompts_per_step: 2, n_embd: 16, max_steps: 20 })
const task = getTask('echo')
// the time, and the uniform bytes uploaded (a new device starts with an empty uniform cache)
const withoutTime = (r: StepResult) => ({ metrics: { ...r.metrics, step_time: 0, bytes_up: 0 }, trace: r.trace })

async function steps(t: GRPOTrainer, n: number): Promise<StepResult[]> {
  const out: StepResult[] = []
  for (let i = 0; i < n; i++) out.push(await t.trainStep())
  return out
}

/** A backend whose device the test destroys (no error scope: a lost device answers none). */
const doomedBackend = () => createNodeWebGPUBackend()

describe('device loss', () => {
  // the devices that live on (the reference run's, the resumed run's): one for the file
  const gpu = useGpu()

  it('a run survives: the step in flight fails with DeviceLostError, a new device resumes from the snapshot bit for bit', async () => {
    const reference = GRPOTrainer.create(gpu(), config, task)
    const uninterrupted = (await steps(reference, 10)).map(withoutTime)

    const doomed = await doomedBackend()
    const run = GRPOTrainer.create(doomed, config, task)
    const shown = await steps(run, 5)
    const snapshot = await run.snapshot() // the lab takes one every 5 steps
    shown.push(...await steps(run, 2))
    const inFlight = run.trainStep()
    doomed.device.destroy() // mid-step: its commands are recorded, the readback is pending
    const err = await inFlight.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DeviceLostError)
    expect((err as DeviceLostError).message).toMatch(/^the GPU device was lost \(destroyed: /)
    await expect(run.snapshot()).rejects.toBeInstanceOf(DeviceLostError) // nothing more from that device

    const resumed = GRPOTrainer.create(gpu(), config, task) // not the lost device: a live one
    resumed.restore(snapshot)
    const after = (await steps(resumed, 5)).map(withoutTime)
    // the steps shown before the loss are recomputed identically, and the run goes on as the uninterrupted one
    expect(after.slice(0, 2)).toEqual(shown.slice(5).map(withoutTime))
    expect([...shown.slice(0, 5).map(withoutTime), ...after]).toEqual(uninterrupted)
  })

  it('during an evaluation and during pretraining: a DeviceLostError too', async () => {
    const doomed = await doomedBackend()
    const run = GRPOTrainer.create(doomed, config, task)
    await run.trainStep()
    const evaluation = run.evaluate()
    doomed.device.destroy()
    await expect(evaluation).rejects.toBeInstanceOf(DeviceLostError)

    const doomedToo = await doomedBackend()
    let stepsDone = 0
    const training = pretrain(doomedToo, task, { ...DEFAULT_PRETRAIN, steps: 50, batchSize: 4, nLayer: 1, nHead: 2, nEmbd: 16, blockSize: 16 }, () => {
      if (++stepsDone === 3) doomedToo.device.destroy()
    })
    await expect(training).rejects.toBeInstanceOf(DeviceLostError)
    expect(stepsDone).toBe(3)
  })
})
