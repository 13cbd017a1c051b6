// A browser without WebGPU (Chromium without --enable-unsafe-webgpu offers no adapter headless):
// the page says so and the lab runs on the CPU backend.
import { expect, test } from '@playwright/test'
// @ts-expect-error plain ESM helper shared with the scripts
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs'
import { echoLink, expectBackend, shownStep, TRAINING_LIMIT } from './helpers'

test.use({
  launchOptions: {
    executablePath: findChromium(),
    args: (CHROMIUM_ARGS as string[]).filter((a) => a !== '--enable-unsafe-webgpu'),
  },
})

test('without WebGPU the page says so and trains on the CPU backend', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await page.goto('/' + echoLink({ max_steps: 60 }))
  await expectBackend(page, 'cpu')
  await expect(page.getByRole('alert')).toContainText('No WebGPU')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: TRAINING_LIMIT })
  expect(await shownStep(page)).toBe(60)
  expect(Number(await page.getByLabel('Reward', { exact: true }).textContent())).toBeGreaterThan(0.5)
})
