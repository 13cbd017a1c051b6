// Lesson mode as a student meets it: each shipped lesson walked from its first page to its last,
// every question answered — a wrong answer first (refused, Next stays shut), then the right one
// read off the page (the worksheet's table, the traces, the run's metrics), never taken from a
// constant for a question about the live run. Then a lesson link that names no lesson, and one
// whose file is malformed: the panel says what is wrong and which lessons exist, the lab trains.
// The lessons on the addition demo run on the fast CPU backend (?backend=cpu, what a page without
// WebGPU trains on): a default step takes ~1 s there and ~30 s on SwiftShader. The echo lessons
// run on WebGPU (SwiftShader here).
import { readFileSync } from 'node:fs'
import { type Browser, chromium, expect, type Locator, type Page, test } from '@playwright/test'
import { HIGHLIGHTS, type Lesson, type LessonQuestion, parseLessonIndex, parseLessonText } from '../src/lessons/lesson'
// @ts-expect-error plain ESM helper shared with the scripts
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs'
import { echoLink, expectBackend, lastMetrics, openLab, shownStep, TRAINING_LIMIT } from './helpers'

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

/** How a walk meets a page with Step presses: trained live, played from its replay, or (replay=1
 *  and no replay records the page's settings) told so, then trained live by "Run it live". */
type Mode = { replay: false } | { replay: true; unrecorded: number[]; recorded?: Record<number, string> }

async function walkLesson(page: Page, entry: { id: string }, walk: Walk, mode: Mode): Promise<void> {
  const lesson: Lesson = parseLessonText(read(entry.id), entry.id)
  if (walk.mobile) await page.setViewportSize({ width: 360, height: 740 })
  const hide = (walk.hide ?? []).map((h) => `&${h}_hide=1`).join('')
  const fragment = `#v=1&lesson=${entry.id}${hide}${mode.replay ? '&replay=1' : ''}`
  if (mode.replay) {
    // the replays need no engine: the walk does not wait for it (the page falls back to the CPU backend)
    await page.goto(`/${walk.query}${fragment}`)
    await expectBackend(page, 'cpu')
  } else await openLab(page, fragment, walk.query)
  const panel = page.getByRole('region', { name: 'Lesson' })
  await expect(panel).toContainText(`Lesson: ${lesson.title}`)
  for (const h of walk.hide ?? []) expect(await page.getByLabel(h === 'preset' ? 'Preset' : 'beta', { exact: true }).count()).toBe(0)
  let live = !mode.replay
  // the step shown before a page is entered (a replayed Step lands at once: read it before Next)
  let before = 0
  // the preset the lesson chose last (on this page or one before): the replay a Step plays
  let preset = ''
  for (const [i, p] of lesson.pages.entries()) {
    for (const a of p.actions) if ('preset' in a) preset = a.preset
    await expect(panel.getByLabel('Lesson page')).toHaveText(`page ${i + 1} of ${lesson.pages.length}`)
    await expect(panel.getByRole('heading', { level: 2 })).toHaveText(p.title)
    // the page's actions (steps included) have run: each Step landed, on a new run when the page
    // changed the configuration first (every shipped lesson's set or preset changes it)
    await expect(panel.locator('.lesson')).toHaveAttribute('data-busy', 'false', { timeout: TRAINING_LIMIT })
    const presses = p.actions.flatMap((a) => ('press' in a && a.press === 'step' ? [a.times] : []))
    if (presses.length && !live && mode.replay && mode.unrecorded.includes(i)) {
      // no recording of these settings: said plainly, nothing trained meanwhile, then live on request
      const note = panel.getByRole('alert', { name: 'No recording' })
      await expect(note).toContainText("This page's run has no recording; press Run it live")
      await expect(page.getByLabel('Run state')).toHaveText(/^(loading|idle)$/)
      expect(await shownStep(page)).toBe(before)
      await note.getByRole('button', { name: 'Run it live' }).click()
      live = true
      await expect(panel.locator('.lesson')).toHaveAttribute('data-busy', 'false', { timeout: TRAINING_LIMIT })
    }
    if (presses.length) {
      const fresh = p.actions.findIndex((a) => 'set' in a || 'preset' in a) >= 0
      expect(await shownStep(page)).toBe((fresh ? 0 : before) + presses.reduce((x, y) => x + y, 0))
      if (live) await expect(page.locator('[data-run-id]')).toHaveAttribute('data-run-id', /^run-/)
      else {
        // the recorded run of the page's settings, played: the replay notice up, the engine idle
        await expect(page.locator('[data-run-id]')).toHaveAttribute('data-run-id', `replay-${(mode.replay && mode.recorded?.[i]) || preset}`)
        await expect(page.getByLabel('Replay notice')).toContainText('Replay of a recorded run')
        await expect(page.getByLabel('Replayed step')).toHaveText(String(await shownStep(page)))
        await expect(page.getByLabel('Run state')).toHaveText(/^(loading|idle)$/)
      }
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
    before = await shownStep(page)
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
}

for (const entry of INDEX) {
  test(`lesson ${entry.id}: first page to last, every question answered`, async ({ page }) => {
    test.setTimeout(TRAINING_LIMIT)
    expect(WALKS[entry.id], `a walk for lesson ${entry.id}`).toBeDefined()
    await walkLesson(page, entry, WALKS[entry.id], { replay: false })
  })
}

// replay=1 in a browser without WebGPU (a phone, a school laptop): the lessons' Step presses play
// the shipped recorded runs, the questions are checked against them, and nothing trains. The
// pages whose settings no replay records (REPLAY_WALKS' `unrecorded`) say so and go live on request.
const REPLAY_WALKS: Record<string, { unrecorded: number[]; recorded?: Record<number, string> }> = {
  'group-advantage': { unrecorded: [] },
  'length-bias': { unrecorded: [] },
  'cold-start': { unrecorded: [] },
  // page 2 sets β = 0.04 on the echo toy: the echo-kl preset's replay records it
  'kl-penalty': { unrecorded: [], recorded: { 1: 'echo-kl' } },
  // page 3 sets num_iterations = 4 on the echo toy: the echo-mu4 preset's replay
  'clipped-ratio': { unrecorded: [], recorded: { 2: 'echo-mu4' } },
  // (a page whose settings no replay records: the served lesson of the test below)
}

test.describe('without WebGPU, replay=1', () => {
  // a browser of its own without WebGPU (launchOptions cannot change within this file's worker)
  let noWebGpu: Browser
  test.beforeAll(async () => {
    noWebGpu = await chromium.launch({ executablePath: findChromium(), args: (CHROMIUM_ARGS as string[]).filter((a) => a !== '--enable-unsafe-webgpu') })
  })
  test.afterAll(async () => { await noWebGpu.close() })
  for (const [id, { unrecorded, recorded }] of Object.entries(REPLAY_WALKS)) {
    test(`lesson ${id} with replay=1: its runs play from the recorded replays, every question answered`, async ({ baseURL }) => {
      test.setTimeout(TRAINING_LIMIT)
      const t0 = Date.now()
      const page = await (await noWebGpu.newContext({ baseURL })).newPage()
      // no ?backend: the page finds no WebGPU and falls back to the fast CPU backend (checked)
      await walkLesson(page, { id }, { query: '' }, { replay: true, unrecorded, recorded })
      expect(await page.evaluate(async () => !!(await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()))).toBe(false)
      console.log(`lessons.spec: ${id} with replay=1 walked in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    })
  }
})

test('replay=1 and a page whose settings no replay records: said plainly, nothing trains, then live on request', async ({ baseURL }) => {
  test.setTimeout(TRAINING_LIMIT)
  const browser = await chromium.launch({ executablePath: findChromium(), args: (CHROMIUM_ARGS as string[]).filter((a) => a !== '--enable-unsafe-webgpu') })
  const page = await (await browser.newContext({ baseURL })).newPage()
  // a teacher's lesson: the echo toy at β = 0.5, which no preset (and so no replay) has
  const lesson = { id: 'beta-half', title: 'β = 0.5', summary: 'a strong KL penalty', pages: [
    { title: 'A strong penalty', text: ['Two steps at β = 0.5.'], actions: [{ preset: 'echo' }, { set: { beta: 0.5 } }, { press: 'step', times: 2 }] },
  ] }
  await page.route('**/lessons/beta-half.json', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(lesson) }))
  await page.goto('/#v=1&lesson=beta-half&replay=1')
  const panel = page.getByRole('region', { name: 'Lesson' })
  const note = panel.getByRole('alert', { name: 'No recording' })
  await expect(note).toContainText("This page's run has no recording; press Run it live")
  await expect(page.getByLabel('Run state')).toHaveText(/^(loading|idle)$/)
  await note.getByRole('button', { name: 'Run it live' }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBe(2)
  await expect(page.locator('[data-run-id]')).toHaveAttribute('data-run-id', /^run-/)
  await browser.close()
})

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
