// The GRPO trainer runs unchanged in a Web Worker: in the page on the reference CPU backend it
// produces exactly the metrics that Node produces for the same configuration and seed; on WebGPU it
// reads back twice per step and the reward rises, with the page's own thread free; a base
// checkpoint loads into the worker. Waits are on steps and states, with generous outer limits.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { checkpointOf, loadSafetensors, saveSafetensors } from '../src/model/checkpoint'
import { GPT } from '../src/model/gpt'
import { CharTokenizer } from '../src/model/tokenizer'
import { ECHO_VALUES } from '../src/lab/presets'
import { resolveRunConfig } from '../src/rl/config'
import { GRPOTrainer } from '../src/rl/trainer'
import { getTask } from '../src/tasks/registry'
import { echoLink, lastMetrics, openLab, shownStep, TRAINING_LIMIT, withoutTiming } from './helpers'

test('GRPO in the worker (reference CPU backend) gives the same metrics as in Node', async ({ page }) => {
  await openLab(page, echoLink(), '?backend=reference')
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('CPU backend')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(3)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')

  const trainer = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig(ECHO_VALUES), getTask('echo'))
  const shown = await shownStep(page)
  let node: Record<string, number> = {}
  for (let s = 0; s < shown; s++) node = (await trainer.trainStep()).metrics
  expect(withoutTiming(await lastMetrics(page))).toEqual(withoutTiming(node))
})

test('GRPO trains in the worker on WebGPU: two readbacks per step, reward rising, the page\'s thread free', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink({ max_steps: 60 }))
  await expect(page.getByRole('alert')).toHaveCount(0)
  // the page's main thread: every task longer than 50 ms it runs from here on
  await page.evaluate(() => {
    const longTasks: number[] = []
    Object.assign(window, { longTasks })
    new PerformanceObserver((list) => { for (const e of list.getEntries()) longTasks.push(e.duration) }).observe({ type: 'longtask' })
  })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: TRAINING_LIMIT })
  // the trainer is in a Web Worker; the page only draws: no task of the page held its thread for seconds
  expect(page.workers().map((w) => w.url())).toEqual([expect.stringMatching(/worker/)])
  const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks)
  expect(Math.max(0, ...longTasks)).toBeLessThan(2000)
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('60')
  await expect(page.getByLabel('Readbacks per step')).toHaveText('2')
  // echo: chance is about 0.05 reward; a learning run ends well above it
  expect(Number(await page.getByLabel('Reward', { exact: true }).textContent())).toBeGreaterThan(0.5)
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', '60')
})

test('the trained-result preset starts from the shipped GRPO policy: its first rollouts are mostly right', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, '', '?backend=cpu')
  await page.getByLabel('Preset', { exact: true }).selectOption({ label: 'R1-Zero addition, trained (result)' })
  await expect(page.getByLabel('Starts from')).toContainText('addition-grpo')
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1', { timeout: TRAINING_LIMIT })
  await expect(page.getByRole('alert')).toHaveCount(0)
  // the base model's first steps are about 20% right (README); the trained policy's about 80%
  expect((await lastMetrics(page)).accuracy).toBeGreaterThan(0.5)
})

test('a base model loads from models/<name>.safetensors with a progress bar, and the run starts from its weights', async ({ page }) => {
  // a base checkpoint made here: the echo shape, weights from another seed than the run's
  const task = getTask('echo')
  const tokenizer = new CharTokenizer(task.alphabet)
  const be = new CpuBackend('f32')
  const model = new GPT(be, { vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 32 })
  model.initialize(99)
  const bytes = saveSafetensors(await checkpointOf(model, tokenizer))
  // the file is held back until the test has seen the bar
  let release = () => {}
  const released = new Promise<void>((r) => { release = r })
  await page.route('**/models/test-base.safetensors', async (route) => {
    await released
    await route.fulfill({ status: 200, body: Buffer.from(bytes), headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) } })
  })
  await openLab(page, echoLink({ base_model: 'test-base' }), '?backend=reference')
  await expect(page.getByLabel('Starts from')).toHaveText('test-base (models/test-base.safetensors)')
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByRole('progressbar', { name: /Loading base model .*models\/test-base\.safetensors/ })).toBeVisible()
  release()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  await expect(page.getByRole('alert')).toHaveCount(0)

  const trainer = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig({ ...ECHO_VALUES, base_model: 'test-base' }), task, loadSafetensors(bytes))
  const node = (await trainer.trainStep()).metrics
  expect(withoutTiming(await lastMetrics(page))).toEqual(withoutTiming(node))
})

test('the default demo in the page (reference CPU backend) follows the curve of `grpo-lab train` with the same configuration', async ({ page }) => {
  test.setTimeout(2 * TRAINING_LIMIT)
  await openLab(page, '', '?backend=reference')
  await expect(page.getByLabel('Starts from')).toContainText('addition')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(3)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const shown = await shownStep(page)
  const pageMetrics = await lastMetrics(page)

  // the README's command, stopped after the same step (the schedule still spans max_steps); one metrics row per step
  const out = mkdtempSync(join(tmpdir(), 'grpo-cli-'))
  execFileSync(process.execPath, ['bin/grpo-lab.mjs', 'train', '--stop-after', String(shown), '--backend', 'reference', '--out', out], { stdio: 'pipe' })
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
  const training = (m: Record<string, number>) => Object.fromEntries(Object.entries(withoutTiming(m)).filter(([k]) => !k.startsWith('eval/')))
  expect(rows.at(-1)!.step).toBe(shown)
  expect(training(pageMetrics)).toEqual(training(rows.at(-1)!))
})
