// Tier 3: the page in real headless Chromium with WebGPU (SwiftShader where there is no GPU).
import { expect, test } from '@playwright/test'

test('the page shows the WebGPU adapter and trains a tiny model in a Web Worker, loss falling', async ({ page }) => {
  await page.goto('/')
  const adapter = page.getByRole('status', { name: 'Adapter' })
  await expect(adapter).toContainText('WebGPU:')
  await expect(page.getByRole('alert')).toHaveCount(0)

  await page.getByRole('button', { name: 'Start', exact: true }).click()
  // the worker trains while the page's own thread stays free to answer
  await expect.poll(async () => Number(await page.getByLabel('Step', { exact: true }).textContent()) || 0).toBeGreaterThan(0)
  expect(await page.evaluate(() => 6 * 7)).toBe(42)
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: 90_000 })
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('60')
  const first = Number(await page.getByLabel('First loss').textContent())
  const current = Number(await page.getByLabel('Current loss').textContent())
  expect(first).toBeGreaterThan(2.4)
  expect(current).toBeLessThan(first * 0.5)
  await expect(page.getByRole('img', { name: 'Loss chart' })).toHaveAttribute('data-points', '60')
  await expect(page.getByLabel('Readbacks per step')).toHaveText('1')
  await expect(page.getByRole('list', { name: 'Samples' }).getByRole('listitem')).toHaveCount(3)
})

test('Pause stops the steps and Step advances exactly one', async ({ page }) => {
  await page.goto('/')
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('WebGPU:')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).not.toHaveText('–')
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const at = Number(await page.getByLabel('Step', { exact: true }).textContent())
  await page.waitForTimeout(500)
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(at))
  await page.getByRole('button', { name: 'Step' }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(at + 1))
})
