// Lesson mode as a student meets it: each shipped lesson walked from its first page to its last,
// every question answered — a wrong answer first (refused, Next stays shut), then the right one
// read off the page (the worksheet's table, the traces, the run's metrics), never taken from a
// constant for a question about the live run. Then a lesson link that names no lesson, and one
// whose file is malformed: the panel says what is wrong and which lessons exist, the lab trains.
// The lessons on the addition demo run on the fast CPU backend (?backend=cpu, what a page without
// WebGPU trains on): a default step takes ~1 s there and ~30 s on SwiftShader. The echo lessons
// run on WebGPU (SwiftShader here).
import { readFileSync } from 'node:fs'
import { expect, type Locator, type Page, test } from '@playwright/test'
import { HIGHLIGHTS, type Lesson, type LessonQuestion, parseLessonIndex, parseLessonText } from '../src/lessons/lesson'
import { echoLink, lastMetrics, openLab, shownStep, TRAINING_LIMIT } from './helpers'

const read = (name: string) => readFileSync(new URL(`../public/lessons/${name}.json`, import.meta.url), 'utf8')
const INDEX = parseLessonIndex(JSON.parse(read('index')))

/** How a walk answers one lesson's typed-number questions: the completion whose A_i the question asks for, by page. */
type Walk = { query: string; hide?: string[]; keyboard?: boolean; mobile?: boolean; completionOf?: Record<number, number> }

const WALKS: Record<string, Walk> = {
  'group-advantage': { query: '?backend=cpu' },
  'std-scaling': { query: '', mobile: true, completionOf: { 0: 1, 1: 4, 2: 4 } },
  'clipped-ratio': { query: '', keyboard: true },
  'kl-penalty': { query: '', hide: ['knobs', 'preset'] },
  'length-bias': { query: '?backend=cpu' },
  'cold-start': { query: '?backend=cpu' },
}

const verdict = (panel: Locator) => panel.getByLabel('Answer check')
const nextButton = (panel: Locator) => panel.getByRole('button', { name: 'Next page' })

/** The worksheet's table, column by column header. */
async function worksheetColumn(page: Page, header: string): Promise<string[]> {
  const table = page.getByRole('table', { name: 'Worksheet per completion' })
  const headers = await table.locator('thead th').allTextContents()
  const col = headers.indexOf(header)
  expect(col).toBeGreaterThanOrEqual(0)
  return table.locator('tbody tr').evaluateAll((rows, c) => rows.map((r) => r.children[c].textContent ?? ''), col)
}

/** The advantages of the worksheet's group as the trace viewer shows them (the latest step). */
async function worksheetGroupAdvantages(page: Page): Promise<number[]> {
  const index = Number(await page.getByLabel('Worksheet source').inputValue())
  const traces = page.getByRole('region', { name: 'Traces' })
  await expect(traces.getByLabel('Shown trace step')).toContainText('(latest)')
  const group = traces.getByRole('group', { name: `Group ${index + 1}` })
  const headers = await group.locator('thead th').allTextContents()
  const col = headers.indexOf('advantage')
  return group.locator('tbody tr').evaluateAll((rows, c) => rows.map((r) => Number(r.children[c].textContent)), col)
}

async function typeAnswer(panel: Locator, answer: string): Promise<void> {
  // the answer box is named by its label, the question's prompt
  await panel.getByRole('textbox').fill(answer)
  await panel.getByRole('button', { name: 'Check' }).click()
}

async function answer(page: Page, panel: Locator, q: LessonQuestion, walk: Walk, pageIndex: number): Promise<void> {
  const refused = async (expected: RegExp) => {
    await expect(verdict(panel)).toHaveText(expected)
    await expect(verdict(panel)).toHaveClass(/wrong/)
    await expect(nextButton(panel)).toBeDisabled()
  }
  switch (q.kind) {
    case 'choice': {
      // the fixed right option of a conceptual question is the lesson file's
      const options = panel.getByRole('radio')
      await options.nth(q.answer === 1 ? 1 : 0).check()
      await panel.getByRole('button', { name: 'Check' }).click()
      await refused(/^Not that one/)
      await options.nth(q.answer - 1).check()
      await panel.getByRole('button', { name: 'Check' }).click()
      break
    }
    case 'number': {
      // the worksheet computes the typed group: wait for its rewards, then read A_i
      const typed = JSON.parse(await page.getByLabel('Worksheet numbers').inputValue()) as { groups: { rewards: number[] }[] }
      await expect.poll(() => worksheetColumn(page, 'reward')).toEqual(typed.groups[0].rewards.map((r) => r.toFixed(3)))
      const i = walk.completionOf![pageIndex]
      const a = Number((await worksheetColumn(page, 'A_i'))[i - 1])
      await typeAnswer(panel, String(a + 1))
      await refused(/^Not quite/)
      await typeAnswer(panel, String(a))
      break
    }
    case 'metric': {
      const m = await lastMetrics(page)
      const v = m[q.metric]
      expect(Number.isFinite(v), `${q.metric} at the latest step`).toBe(true)
      await typeAnswer(panel, String(v + 1 + 10 * Math.max(q.tolerance, (q.relative ?? 0) * Math.abs(v))))
      await refused(/^Not quite/)
      await typeAnswer(panel, String(v))
      break
    }
    case 'largest-advantage': {
      const adv = await worksheetGroupAdvantages(page)
      const best = adv.indexOf(Math.max(...adv)) + 1
      const worst = adv.indexOf(Math.min(...adv)) + 1
      expect(adv[best - 1], 'the worksheet shows a group whose advantages differ').toBeGreaterThan(adv[worst - 1])
      await typeAnswer(panel, String(worst))
      await refused(new RegExp(`^Completion ${worst} has advantage`))
      await typeAnswer(panel, String(best))
      break
    }
  }
  await expect(verdict(panel)).toHaveText(/^Right/)
  await expect(verdict(panel)).toHaveClass(/right/)
}

for (const entry of INDEX) {
  const walk = WALKS[entry.id]
  test(`lesson ${entry.id}: first page to last, every question answered`, async ({ page }) => {
    test.setTimeout(TRAINING_LIMIT)
    expect(walk, `a walk for lesson ${entry.id}`).toBeDefined()
    const lesson: Lesson = parseLessonText(read(entry.id), entry.id)
    if (walk.mobile) await page.setViewportSize({ width: 360, height: 740 })
    const hide = (walk.hide ?? []).map((h) => `&${h}_hide=1`).join('')
    await openLab(page, `#v=1&lesson=${entry.id}${hide}`, walk.query)
    const panel = page.getByRole('region', { name: 'Lesson' })
    await expect(panel).toContainText(`Lesson: ${lesson.title}`)
    for (const h of walk.hide ?? []) expect(await page.getByLabel(h === 'preset' ? 'Preset' : 'beta', { exact: true }).count()).toBe(0)
    for (const [i, p] of lesson.pages.entries()) {
      const before = await shownStep(page)
      await expect(panel.getByLabel('Lesson page')).toHaveText(`page ${i + 1} of ${lesson.pages.length}`)
      await expect(panel.getByRole('heading', { level: 2 })).toHaveText(p.title)
      // the page's actions (steps included) have run: each Step landed, on a new run when the page
      // changed the configuration first (every shipped lesson's set or preset changes it)
      await expect(panel.locator('.lesson')).toHaveAttribute('data-busy', 'false', { timeout: TRAINING_LIMIT })
      const presses = p.actions.flatMap((a) => ('press' in a && a.press === 'step' ? [a.times] : []))
      if (presses.length) {
        const fresh = p.actions.findIndex((a) => 'set' in a || 'preset' in a) >= 0
        expect(await shownStep(page)).toBe((fresh ? 0 : before) + presses.reduce((x, y) => x + y, 0))
      }
      await expect(panel.getByRole('alert')).toHaveCount(0)
      for (const a of p.actions) {
        if ('highlight' in a && a.highlight) await expect(page.locator('.highlighted').filter({ has: page.locator(`[aria-label="${a.highlight}"]`) }).or(page.locator(`.highlighted[aria-label="${a.highlight}"]`))).toHaveCount(1)
      }
      if (p.question) {
        await expect(nextButton(panel)).toBeDisabled()
        await answer(page, panel, p.question, walk, i)
      }
      if (i === lesson.pages.length - 1) break
      await expect(nextButton(panel)).toBeEnabled()
      if (walk.keyboard) {
        await nextButton(panel).focus()
        await page.keyboard.press('ArrowRight')
      } else await nextButton(panel).click()
    }
    await expect(panel).toContainText('End of the lesson')
    await expect(nextButton(panel)).toBeDisabled()
    // Previous goes back without running the page again
    const steps = await shownStep(page)
    await panel.getByRole('button', { name: 'Previous page' }).click()
    await expect(panel.getByLabel('Lesson page')).toHaveText(`page ${lesson.pages.length - 1} of ${lesson.pages.length}`)
    expect(await shownStep(page)).toBe(steps)
    if (walk.mobile) {
      // 360 px wide: the panel stacks above the lab, within the screen, nothing in it sticking out sideways
      const box = await panel.boundingBox()
      expect(box!.x).toBeGreaterThanOrEqual(0)
      expect(box!.x + box!.width).toBeLessThanOrEqual(360)
      expect(await panel.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
      await nextButton(panel).scrollIntoViewIfNeeded()
      await expect(nextButton(panel)).toBeInViewport({ ratio: 1 })
    }
  })
}

test('a lesson link naming no lesson, or a malformed lesson file: the panel says what is wrong and lists the lessons; the lab trains', async ({ page }) => {
  await openLab(page, `${echoLink()}&lesson=no-such-lesson`)
  const panel = page.getByRole('region', { name: 'Lesson' })
  await expect(panel.getByRole('alert')).toContainText('The lesson “no-such-lesson” could not be opened: there is no lesson file lessons/no-such-lesson.json here')
  await expect(panel.getByRole('link')).toHaveCount(INDEX.length)
  await expect(panel.getByRole('link', { name: INDEX[0].title })).toHaveAttribute('href', `#v=1&lesson=${INDEX[0].id}`)
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  // every label a lesson may highlight is on the page
  for (const label of HIGHLIGHTS) await expect(page.locator(`[aria-label="${label}"]`).first()).toBeAttached()

  // a file that is not a valid lesson (served in place of one): the field is named
  await page.route('**/lessons/broken.json', (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({ id: 'broken', title: 'Broken', summary: 'x', pages: [{ title: 'p', text: ['t'], actions: [{ set: { beta: -1 } }] }] }),
  }))
  await page.evaluate(() => { location.hash = '#v=1&lesson=broken' })
  await expect(panel.getByRole('alert')).toContainText('lessons/broken.json is not a valid lesson — pages[0].actions[0].set.beta: got -1; allowed: a number from 0 to 10')
  await expect(panel.getByRole('link')).toHaveCount(INDEX.length)
  // and a link to a real lesson from the list opens it
  await panel.getByRole('link', { name: INDEX[1].title }).click()
  await expect(panel).toContainText(`Lesson: ${INDEX[1].title}`)
  // Close: the panel goes, the lab stays
  await panel.getByRole('button', { name: 'Close lesson' }).click()
  await expect(panel).toHaveCount(0)
  expect(page.url()).not.toContain('lesson=')
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeVisible()
})

test('Step pressed again while a step is finishing is not lost (a lesson presses Step n times)', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  // the second press reaches the worker while the first step is in flight
  await page.getByRole('button', { name: 'Step', exact: true }).dblclick()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('3')
  await expect(page.getByLabel('Run state')).toHaveText('paused')
})
