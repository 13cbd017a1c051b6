// The GRPO trainer runs unchanged in a Web Worker: in the page on the CPU backend it produces
// exactly the metrics that Node produces for the same configuration and seed.
import { expect, test } from '@playwright/test'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { resolveRunConfig } from '../src/rl/config'
import { GRPOTrainer } from '../src/rl/trainer'
import { getTask } from '../src/tasks/registry'
import { ECHO_RUN } from '../src/ui/App'

const timing = ['step_time', 'dispatches', 'submits', 'bytes_up', 'bytes_down']
const strip = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !timing.includes(k)))

test('GRPO in the worker (CPU backend) gives the same first-step metrics as in Node', async ({ page }) => {
  await page.goto('/?backend=cpu')
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('CPU backend')
  await page.getByRole('button', { name: 'Start GRPO' }).click()
  await expect.poll(async () => Number(await page.getByLabel('GRPO step', { exact: true }).textContent()) || 0).toBeGreaterThanOrEqual(1)
  await page.getByRole('button', { name: 'Pause' }).click()

  const trainer = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig(ECHO_RUN), getTask('echo'))
  const node: Record<string, number>[] = []
  const shown = Number(await page.getByLabel('GRPO step', { exact: true }).textContent())
  for (let s = 0; s < shown; s++) node.push((await trainer.trainStep()).metrics)
  await page.getByText('Metrics of the last step (JSON)').click()
  const inPage = JSON.parse(await page.getByLabel('Last GRPO metrics').textContent() ?? '{}')
  expect(strip(inPage)).toEqual(strip(node[shown - 1]))
})

test('GRPO runs in the worker on WebGPU: reward is reported every step with two readbacks', async ({ page }) => {
  await page.goto('/')
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('WebGPU:')
  await page.getByRole('button', { name: 'Start GRPO' }).click()
  await expect.poll(async () => Number(await page.getByLabel('GRPO step', { exact: true }).textContent()) || 0, { timeout: 60_000 }).toBeGreaterThanOrEqual(3)
  await expect(page.getByLabel('Readbacks per GRPO step')).toHaveText('2')
  await expect(page.getByRole('img', { name: 'Reward chart' })).not.toHaveAttribute('data-points', '0')
})
