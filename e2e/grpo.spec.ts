// The GRPO trainer runs unchanged in a Web Worker: in the page on the CPU backend it produces
// exactly the metrics that Node produces for the same configuration and seed; on WebGPU it
// reads back twice per step and the reward rises.
import { expect, test } from '@playwright/test'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { ECHO_VALUES } from '../src/lab/presets'
import { resolveRunConfig } from '../src/rl/config'
import { GRPOTrainer } from '../src/rl/trainer'
import { getTask } from '../src/tasks/registry'
import { echoLink, lastMetrics, openLab, shownStep, withoutTiming } from './helpers'

test('GRPO in the worker (CPU backend) gives the same metrics as in Node', async ({ page }) => {
  await openLab(page, echoLink(), '?backend=cpu')
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

test('GRPO trains in the worker on WebGPU: two readbacks per step, reward rising, page responsive', async ({ page }) => {
  await openLab(page, echoLink({ max_steps: 60 }))
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('WebGPU:')
  await expect(page.getByRole('alert')).toHaveCount(0)
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  expect(await page.evaluate(() => 6 * 7)).toBe(42) // the page's thread answers while the worker trains
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: 90_000 })
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('60')
  await expect(page.getByLabel('Readbacks per step')).toHaveText('2')
  // echo: chance is about 0.05 reward; a learning run ends well above it
  expect(Number(await page.getByLabel('Reward', { exact: true }).textContent())).toBeGreaterThan(0.5)
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', '60')
})
