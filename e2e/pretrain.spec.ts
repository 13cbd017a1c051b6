// Pretraining a base model in the page: the progress bar and the model it leaves (also after a
// reload), Cancel part-way, pretraining beside a paused run that is stepped and resumed meanwhile,
// a run resumed after a reload on a locally pretrained base, and a local model that can no longer
// be read. The reference CPU backend where results are compared with Node bit for bit.
import { expect, type Page, test } from '@playwright/test'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { ECHO_VALUES } from '../src/lab/presets'
import { DEFAULT_PRETRAIN, pretrain } from '../src/lab/pretrain'
import { resolveRunConfig } from '../src/rl/config'
import { GRPOTrainer } from '../src/rl/trainer'
import { getTask } from '../src/tasks/registry'
import {
  echoLink, exportedRun, lastMetrics, metricRows, openLab, reloadMidRunAndResume, shownStep, startAndFinish, TRAINING_LIMIT, withoutTiming,
} from './helpers'

/** Press Pretrain base model for `steps` steps. */
async function startPretraining(page: Page, steps: number): Promise<void> {
  await page.getByLabel('Pretrain steps').fill(String(steps))
  await page.getByRole('button', { name: 'Pretrain base model' }).click()
}

const pretrainBar = (page: Page) => page.getByRole('progressbar', { name: /Pretraining the echo base model/ })

/** The base models kept in this browser's IndexedDB, by name. */
async function storedModels(page: Page): Promise<string[]> {
  return page.evaluate(() => new Promise<string[]>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const keys = req.result.transaction('models').objectStore('models').getAllKeys()
      keys.onsuccess = () => { resolve(keys.result.map(String)); req.result.close() }
    }
    req.onerror = () => reject(req.error)
  }))
}

/** Replace (bytes) or delete (null) the stored base model `name`, behind the page's back. */
async function tamperStoredModel(page: Page, name: string, bytes: number[] | null): Promise<void> {
  await page.evaluate(([name, bytes]) => new Promise<void>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const tx = req.result.transaction('models', 'readwrite')
      const store = tx.objectStore('models')
      if (bytes) store.put({ name, bytes: new Uint8Array(bytes), loss: 0, steps: 1, createdAt: 0 })
      else store.delete(name)
      tx.oncomplete = () => { req.result.close(); resolve() }
      tx.onerror = () => reject(tx.error)
    }
    req.onerror = () => reject(req.error)
  }), [name, bytes] as const)
}

/** Node's pretraining of the echo model at ECHO_VALUES' shape: the page's must be the same bits. */
async function nodePretrainLoss(steps: number): Promise<string> {
  const r = await pretrain(new CpuBackend('f32'), getTask('echo'), {
    ...DEFAULT_PRETRAIN, seed: 1, steps, nLayer: ECHO_VALUES.n_layer!, nHead: ECHO_VALUES.n_head!, nEmbd: ECHO_VALUES.n_embd!, blockSize: ECHO_VALUES.block_size!,
  })
  r.model.destroy()
  return r.finalLoss.toFixed(3)
}

test('Pretrain base model: a progress bar, then runs start from the pretrained model, also after a reload', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink())
  await startPretraining(page, 40)
  await expect(pretrainBar(page)).toBeVisible()
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)', { timeout: TRAINING_LIMIT })
  await expect(page.getByRole('region', { name: 'Base model' }).getByRole('status')).toContainText('40 steps')
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('echo')
  expect(await storedModels(page)).toEqual(['echo'])
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await expect(page.getByRole('alert')).toHaveCount(0)
  await page.getByRole('button', { name: 'Reset' }).click()
  await openLab(page, echoLink({ base_model: 'echo' }))
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)')
})

test('Cancel during pretraining: the bar goes, nothing is kept, and a run then starts from fresh weights as usual', async ({ page, context }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink())
  await startPretraining(page, 100_000)
  await expect(pretrainBar(page)).toHaveAccessibleName(/step [1-9]\d* of 100000/, { timeout: TRAINING_LIMIT })
  await page.getByRole('button', { name: 'Cancel pretraining' }).click()
  await expect(pretrainBar(page)).toHaveCount(0, { timeout: TRAINING_LIMIT })
  await expect(page.getByRole('alert')).toContainText('pretraining cancelled')
  await expect(page.getByLabel('Starts from')).toHaveText('fresh weights')
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('')
  expect(await storedModels(page)).toEqual([])
  await expect(page.getByRole('button', { name: 'Pretrain base model' })).toBeEnabled()
  // the engine is unharmed: the first step equals that of a page that never pretrained
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  const other = await context.newPage()
  await openLab(other, echoLink())
  await other.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(other.getByLabel('Step', { exact: true })).toHaveText('1')
  expect(withoutTiming(await lastMetrics(page))).toEqual(withoutTiming(await lastMetrics(other)))
})

test('pretraining beside a run: not while it runs; while it is paused, Step and Resume go on, and neither result changes', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink(), '?backend=reference') // Node's numbers to the bit
  await page.getByLabel('Speed').selectOption({ label: '1 step / second' }) // running for a while on any machine
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThan(0)
  await expect(page.getByLabel('Run state')).toHaveText('running')
  await expect(page.getByRole('button', { name: 'Pretrain base model' })).toBeDisabled()
  await page.getByLabel('Speed').selectOption({ label: 'Full speed' })
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const paused = await shownStep(page)

  const PRETRAIN_STEPS = 120
  await startPretraining(page, PRETRAIN_STEPS)
  await expect(pretrainBar(page)).toHaveAccessibleName(/step [1-9]\d* of 120/, { timeout: TRAINING_LIMIT })
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(paused + 1), { timeout: TRAINING_LIMIT })
  await expect(pretrainBar(page)).toBeVisible() // the step landed while pretraining went on
  await page.getByRole('button', { name: 'Resume' }).click()
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)', { timeout: TRAINING_LIMIT })
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThan(paused + 2)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')

  // the run went on with its own fresh weights, exactly as in Node; the pretrained model is Node's too
  const shown = await shownStep(page)
  const trainer = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig(ECHO_VALUES), getTask('echo'))
  let node: Record<string, number> = {}
  for (let s = 0; s < shown; s++) node = (await trainer.trainStep()).metrics
  expect(withoutTiming(await lastMetrics(page))).toEqual(withoutTiming(node))
  await expect(page.getByRole('region', { name: 'Base model' }).getByRole('status'))
    .toContainText(`(${PRETRAIN_STEPS} steps, final loss ${await nodePretrainLoss(PRETRAIN_STEPS)})`)
})

test('a run on a locally pretrained base, resumed after a reload, equals the same run that never stopped', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  const STEPS = 14
  await openLab(page, echoLink({ max_steps: STEPS }), '?backend=cpu')
  await startPretraining(page, 40)
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)', { timeout: TRAINING_LIMIT })
  // a link naming that base (a reload shows the saved run only when the link's configuration is the run's)
  await openLab(page, echoLink({ max_steps: STEPS, base_model: 'echo' }), '?backend=cpu')
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)')
  await startAndFinish(page, STEPS)
  const straight = await exportedRun(page)
  expect(straight.config.base_model).toBe('echo')

  const { saved, from } = await reloadMidRunAndResume(page)
  expect(from).toBeLessThan(saved)
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(STEPS), { timeout: TRAINING_LIMIT })
  await expect(page.getByLabel('Run state')).toHaveText('done')
  await expect(page.getByRole('alert')).toHaveCount(0)
  const resumed = await exportedRun(page)
  expect(resumed.metrics.map((m) => m.step)).toEqual(straight.metrics.map((m) => m.step))
  expect(metricRows(resumed)).toEqual(metricRows(straight))
})

test('a locally pretrained model that can no longer be read is named as such, and no file is fetched for it', async ({ page, context }) => {
  test.setTimeout(TRAINING_LIMIT)
  const fetched: string[] = []
  context.on('request', (r) => { if (r.url().includes('/models/')) fetched.push(r.url()) })
  await openLab(page, echoLink(), '?backend=cpu')
  await startPretraining(page, 10)
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)', { timeout: TRAINING_LIMIT })
  await expect.poll(() => storedModels(page)).toEqual(['echo'])

  // its bytes damaged in storage
  await tamperStoredModel(page, 'echo', [1, 2, 3])
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  const alerts = page.getByRole('alert')
  await expect(alerts.last()).toContainText("'echo' pretrained in this browser")
  await expect(alerts.last()).toContainText('too short to be safetensors')
  await expect(page.getByLabel('Run state')).toHaveText('idle')
  // gone from storage altogether
  await tamperStoredModel(page, 'echo', null)
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(alerts.last()).toContainText("'echo' pretrained in this browser")
  await expect(alerts.last()).toContainText('no longer in this browser')
  await expect(page.getByLabel('Run state')).toHaveText('idle')
  expect(fetched).toEqual([])
  // fresh weights are offered, and work
  await alerts.last().getByRole('button', { name: 'Train from fresh weights' }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThan(0)
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('')
})
