// The README's "Teaching with the lab" pictures, at a desktop size: a lesson page (the worksheet on a
// group of the step the lesson took) and two runs compared; and the time from opening a lesson
// link to the first point of the Reward chart, live and from a replay, measured in the page:
// performance.now() counts from the navigation, read at the first frame the chart holds a step.
// docs/screenshots/phone-lab.png is e2e/classroom.spec.ts's; phone-replay.png e2e/replay.spec.ts's.
import { expect, type Page, test } from '@playwright/test'
import { parseLessonText } from '../src/lessons/lesson'
import { readFileSync } from 'node:fs'
import { echoLink, openLab, startAndFinish, TRAINING_LIMIT } from './helpers'

const DESKTOP = { width: 1440, height: 900 }

/** Milliseconds from navigation to the first frame in which the Reward chart has a point. */
async function firstChartMs(page: Page, link: string, onReady?: () => Promise<void>): Promise<number> {
  await page.goto(link)
  const first = page.waitForFunction(() => {
    const n = Number(document.querySelector('[aria-label="Reward chart"]')?.getAttribute('data-points'))
    return n >= 1 ? performance.now() : false
  }, undefined, { polling: 'raf', timeout: TRAINING_LIMIT })
  await onReady?.()
  return Number(await (await first).jsonValue())
}

test('a lesson page (screenshot)', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await page.setViewportSize(DESKTOP)
  const lesson = parseLessonText(readFileSync(new URL('../public/lessons/group-advantage.json', import.meta.url), 'utf8'), 'group-advantage')
  await openLab(page, '#v=1&lesson=group-advantage', '?backend=cpu')
  const panel = page.getByRole('region', { name: 'Lesson' })
  const busy = panel.locator('.lesson')
  await expect(busy).toHaveAttribute('data-busy', 'false')
  await panel.getByRole('button', { name: 'Next page' }).click()
  await expect(busy).toHaveAttribute('data-busy', 'false', { timeout: TRAINING_LIMIT })
  await panel.getByRole('radio').nth(1).check()
  await panel.getByRole('button', { name: 'Check' }).click()
  await expect(panel.getByLabel('Answer check')).toHaveText(/^Right/)
  await panel.getByRole('button', { name: 'Next page' }).click()
  await expect(panel.getByRole('heading', { level: 2 })).toHaveText(lesson.pages[2].title)
  await expect(busy).toHaveAttribute('data-busy', 'false')
  await expect(page.getByRole('table', { name: 'Worksheet per completion' })).toBeVisible()
  await expect(panel.locator('.katex').first()).toBeVisible()
  // the page as the student sees it after the lesson scrolled to the worksheet
  await page.waitForTimeout(600) // the smooth scroll to the outlined panel
  await page.screenshot({ path: 'docs/screenshots/lesson.png' })
})

test('two runs compared (screenshot)', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await page.setViewportSize(DESKTOP)
  await openLab(page, echoLink({ max_steps: 30 }))
  await startAndFinish(page, 30)
  const beta = page.getByLabel('beta', { exact: true })
  await beta.fill('0.04')
  await beta.press('Enter')
  await page.getByLabel('scale_rewards', { exact: true }).selectOption('none')
  await startAndFinish(page, 30)
  await expect(page.getByRole('table', { name: 'Final figures of the runs compared' }).locator('tbody tr')).toHaveCount(2)
  const charts = page.getByRole('region', { name: 'Charts' })
  await charts.scrollIntoViewIfNeeded()
  await charts.screenshot({ path: 'docs/screenshots/compare.png' })
})

// Live: the lesson's own first page takes the step (clipped-ratio: the echo toy, one step), or the
// student presses Next as soon as the first page is ready (group-advantage: the addition demo).
const TIMINGS: { name: string; link: string; next?: boolean }[] = [
  { name: 'clipped-ratio, WebGPU (SwiftShader)', link: '/#v=1&lesson=clipped-ratio' },
  { name: 'clipped-ratio, fast CPU backend', link: '/?backend=cpu#v=1&lesson=clipped-ratio' },
  { name: 'group-advantage, fast CPU backend, Next pressed at once', link: '/?backend=cpu#v=1&lesson=group-advantage', next: true },
  // the recorded run instead (replay=1): page 2's Step plays it, without waiting for the engine
  { name: 'group-advantage, replay of the recorded run (WebGPU page), Next pressed at once', link: '/#v=1&lesson=group-advantage&replay=1', next: true },
]
for (const t of TIMINGS) {
  test(`lesson link to the first chart drawn: ${t.name}`, async ({ page }) => {
    test.setTimeout(TRAINING_LIMIT)
    await page.setViewportSize(DESKTOP)
    const ms = await firstChartMs(page, t.link, t.next ? async () => {
      const panel = page.getByRole('region', { name: 'Lesson' })
      await expect(panel.locator('.lesson')).toHaveAttribute('data-busy', 'false', { timeout: TRAINING_LIMIT })
      await panel.getByRole('button', { name: 'Next page' }).click()
    } : undefined)
    const adapter = await page.getByRole('status', { name: 'Adapter' }).textContent()
    console.log(`lesson link → first Reward chart point, ${t.name}: ${(ms / 1000).toFixed(2)} s (${adapter})`)
    expect(ms).toBeGreaterThan(0)
  })
}
