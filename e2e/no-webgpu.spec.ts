// A browser without WebGPU (Chromium without --enable-unsafe-webgpu offers no adapter headless):
// the page says so and the lab trains on the fast CPU backend, WebAssembly SIMD on a thread per
// core (the page is cross-origin isolated: COOP/COEP from vite.config.ts), and names both. Served
// without those headers it has no SharedArrayBuffer: one thread, and the page says why.
import { expect, type Page, test } from '@playwright/test'
// @ts-expect-error plain ESM helper shared with the scripts
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs'
import { echoLink, expectBackend, shownStep, TRAINING_LIMIT } from './helpers'

test.use({
  launchOptions: {
    executablePath: findChromium(),
    args: (CHROMIUM_ARGS as string[]).filter((a) => a !== '--enable-unsafe-webgpu'),
  },
})

const adapter = (page: Page) => page.getByRole('status', { name: 'Adapter' })

async function trains(page: Page, steps: number): Promise<void> {
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: TRAINING_LIMIT })
  expect(await shownStep(page)).toBe(steps)
  expect(Number(await page.getByLabel('Reward', { exact: true }).textContent())).toBeGreaterThan(0.5)
}

test('without WebGPU the page says so and trains on the fast CPU backend, on a thread per core', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  // under the built page's Content-Security-Policy ('wasm-unsafe-eval' compiles the kernels)
  const refused: string[] = []
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()) })
  await page.goto('/' + echoLink({ max_steps: 60 }))
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveCount(1)
  await expectBackend(page, 'cpu')
  await expect(page.getByRole('alert')).toContainText('No WebGPU')
  const { isolated, cores } = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }))
  expect(isolated).toBe(true)
  const threads = Math.min(16, cores)
  await expect(adapter(page)).toHaveText(new RegExp(`^CPU backend \\(WebAssembly SIMD( \\+ relaxed FMA)?, ${threads} threads?\\)$`))
  await trains(page, 60)
  expect(refused).toEqual([])
})

test('a page served without COOP/COEP headers runs the fast CPU backend on one thread and says why', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  // the page's document as the server sends it, less the two headers of cross-origin isolation
  await page.route((url) => url.pathname === '/', async (route) => {
    const response = await route.fetch()
    const headers = { ...response.headers() }
    delete headers['cross-origin-opener-policy']
    delete headers['cross-origin-embedder-policy']
    await route.fulfill({ response, headers })
  })
  await page.goto('/' + echoLink({ max_steps: 60 }))
  await expectBackend(page, 'cpu')
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false)
  await expect(adapter(page)).toHaveText(/^CPU backend \(WebAssembly SIMD( \+ relaxed FMA)?, 1 thread: the page is not cross-origin isolated, so it has no SharedArrayBuffer/)
  await trains(page, 60)
})
