// The lab in a classroom: the worksheet's reward sandbox (edit a completion, see the task's
// rewards and the group's advantages recompute), a run that pauses when its tab is hidden and
// keeps every step, and the page on a 360-px phone screen without horizontal overflow.
import { expect, type Locator, type Page, test } from '@playwright/test'
import { getTask } from '../src/tasks/registry'
import { echoLink, openLab, savedSnapshotStep, runId, shownStep, TRAINING_LIMIT } from './helpers'

type LabWindow = { grpoLab: typeof import('../src/store/labStore').useLab }
const echo = getTask('echo')

/** TRL's group advantages (scale_rewards group): (r − mean) / (sample std + 1e-4). */
function groupAdvantages(r: number[]): number[] {
  const mean = r.reduce((a, b) => a + b, 0) / r.length
  const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1))
  return r.map((x) => (x - mean) / (std + 1e-4))
}

/** Echo's reward of a text, from the task's own functions and weights. */
const echoReward = (text: string, digit: string) =>
  echo.rewardFunctions.reduce((s, f) => s + f.weight * f.score(text, echo.parseProblem({ digit: Number(digit) })), 0)

const cell = (sandbox: Locator, label: string) => sandbox.getByLabel(label, { exact: true })
const valueOf = async (c: Locator) => Number(await c.getAttribute('data-value'))

/** The sandbox shows these texts' rewards and advantages, as the task's functions give them. */
async function expectScored(sandbox: Locator, texts: string[], digit: string): Promise<void> {
  const rewards = texts.map((t) => echoReward(t, digit))
  const adv = groupAdvantages(rewards)
  const shown = async (what: 'reward' | 'advantage') =>
    Promise.all(texts.map((_, i) => valueOf(cell(sandbox, `Completion ${i + 1} ${what}`))))
  // the largest difference: the sandbox recomputes a moment after an edit
  const off = async () => Math.max(...(await shown('reward')).map((r, i) => Math.abs(r - rewards[i])),
    ...(await shown('advantage')).map((a, i) => Math.abs(a - adv[i])))
  await expect.poll(off).toBeLessThan(1e-3)
}

/** dapo at μ = 1 (ρ = 1, nothing clipped), β = 0: −Σ_i A_i·|o_i| / Σ_i |o_i|, |o_i| the log-probs of a text (an empty one keeps one place). */
function dapoLoss(texts: string[], adv: number[]): number {
  const n = texts.map((t) => Math.max(1, t.length))
  return -n.reduce((s, k, i) => s + adv[i] * k, 0) / n.reduce((a, b) => a + b, 0)
}

const lossShown = async (sandbox: Locator) => Number(await sandbox.getByLabel('Sandbox loss').locator('[data-value]').getAttribute('data-value'))

test('the reward sandbox: edit a completion of a live group, its rewards, the advantages and the loss recompute', async ({ page }) => {
  // dapo (a token mean): the loss moves with the advantages (grpo's reads 0 at μ = 1, β = 0)
  await openLab(page, echoLink({ loss_type: 'dapo' }))
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  const sandbox = page.getByRole('region', { name: 'Reward sandbox' })
  const group = await page.evaluate(() => (globalThis as unknown as LabWindow).grpoLab.getState().run!.traces.at(-1)!.groups[0])
  const texts = group.completions.map((c) => c.text)
  for (let i = 0; i < texts.length; i++) await expect(sandbox.getByLabel(`Completion ${i + 1} text`)).toHaveValue(texts[i])
  // unedited: the trace's own rewards and advantages (what the trainer computed)
  for (let i = 0; i < texts.length; i++) {
    await expect.poll(() => valueOf(cell(sandbox, `Completion ${i + 1} reward`))).toBeCloseTo(group.completions[i].reward, 6)
    expect(await valueOf(cell(sandbox, `Completion ${i + 1} advantage`))).toBeCloseTo(group.completions[i].advantage, 3)
  }
  // the loss from the live model's log-probs, as the worksheet gets them
  await expect(sandbox.getByText(/from the live model as the worksheet gets them/)).toBeVisible()
  expect(await lossShown(sandbox)).toBeCloseTo(dapoLoss(texts, group.completions.map((c) => c.advantage)), 3)
  // one completion becomes the right answer, another a wrong one: the task's functions score them
  const edited = [...texts]
  edited[0] = group.answer
  edited[1] = group.answer === '0' ? '1' : '0'
  await sandbox.getByLabel('Completion 1 text').fill(edited[0])
  await sandbox.getByLabel('Completion 2 text').fill(edited[1])
  await expect.poll(() => valueOf(cell(sandbox, 'Completion 1 accuracy'))).toBe(1)
  expect(await valueOf(cell(sandbox, 'Completion 1 first_char'))).toBe(1)
  await expectScored(sandbox, edited, group.answer)
  if (edited[0] !== texts[0]) await expect(cell(sandbox, 'Completion 1 reward')).toHaveClass(/changed/)
  await expect(sandbox.locator('tr[data-edited="true"]').first()).toBeVisible()
  await expect.poll(() => lossShown(sandbox)).toBeCloseTo(dapoLoss(edited, groupAdvantages(edited.map((t) => echoReward(t, group.answer)))), 3)
  await sandbox.screenshot({ path: 'docs/screenshots/reward-sandbox.png' })
  // a character the task has not: named, with what is allowed
  await sandbox.getByLabel('Completion 3 text').fill('3x')
  await expect(sandbox.getByRole('alert')).toContainText(`completion 3: "x" is not a character of task 'echo'; allowed: "0123456789>"`)
  await sandbox.getByRole('button', { name: 'Undo edits' }).click()
  await expect(sandbox.getByLabel('Completion 1 text')).toHaveValue(texts[0])
  await expect(sandbox.getByRole('alert')).toHaveCount(0)
})

test('the reward sandbox without a run: an example group of the task, rewards and advantages recompute, the loss needs a model', async ({ page }) => {
  await openLab(page, echoLink())
  const sandbox = page.getByRole('region', { name: 'Reward sandbox' })
  await expect(sandbox).toContainText('example group of task echo')
  await expect(sandbox.getByLabel('Sandbox loss')).toContainText('The loss needs a model')
  const seed = await page.evaluate(() => (globalThis as unknown as LabWindow).grpoLab.getState().config.seed)
  const digit = echo.problem('train', seed, 0).answer
  const n = await sandbox.locator('tbody tr').count()
  const texts = await Promise.all(Array.from({ length: n }, (_, i) => sandbox.getByLabel(`Completion ${i + 1} text`).inputValue()))
  await expectScored(sandbox, texts, digit)
  texts[n - 1] = digit
  await sandbox.getByLabel(`Completion ${n} text`).fill(digit)
  await expectScored(sandbox, texts, digit)
  await expect(cell(sandbox, `Completion ${n} advantage`)).toHaveClass(/changed/)
})

/** Hide the tab as a browser does (visibilityState and the event), or show it again. */
function setVisibility(page: Page, state: 'hidden' | 'visible'): Promise<void> {
  return page.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' })
    document.dispatchEvent(new Event('visibilitychange'))
  }, state)
}

test('hiding the tab pauses the run, says so, keeps every step (snapshot stored) and does not resume by itself', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(3)
  await setVisibility(page, 'hidden')
  const notice = page.getByRole('status', { name: 'Paused because the tab was hidden' })
  await expect(notice).toContainText('Paused: the tab was hidden. Press Resume to go on.')
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const at = await shownStep(page)
  // every step the worker took is on screen and stored with the pause's snapshot
  const id = await runId(page)
  expect(await savedSnapshotStep(page, id)).toBe(at)
  const inStore = await page.evaluate(() => (globalThis as unknown as LabWindow).grpoLab.getState().run!.metrics.map((m) => m.step))
  expect(inStore).toEqual(Array.from({ length: at }, (_, i) => i + 1))
  // back to the tab: still paused, at the same step
  await setVisibility(page, 'visible')
  await page.waitForTimeout(1000)
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  expect(await shownStep(page)).toBe(at)
  await expect(notice).toBeVisible()
  await page.getByRole('button', { name: 'Resume' }).click()
  await expect(notice).toHaveCount(0)
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThan(at)
})

test('a run that starts in a hidden tab (an autostart link opened in the background) pauses too', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await page.addInitScript(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true })
  })
  await page.goto('/' + echoLink({}, [], true))
  await expect(page.getByRole('status', { name: 'Paused because the tab was hidden' })).toContainText('Paused: the tab was hidden.', { timeout: TRAINING_LIMIT })
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const at = await shownStep(page)
  await page.waitForTimeout(1000)
  expect(await shownStep(page)).toBe(at)
})

test('on a 360-px phone: one column, no horizontal overflow, charts and formulas fit (screenshot)', async ({ browser }) => {
  test.setTimeout(TRAINING_LIMIT)
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
  const page = await context.newPage()
  // the default page as a link opens it, before a run
  await openLab(page, '')
  await expect(page.getByRole('region', { name: 'Reward sandbox' })).toContainText('example group of task addition')
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
  await openLab(page, echoLink({ max_steps: 4 }))
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: TRAINING_LIMIT })
  await expect(page.getByRole('region', { name: 'GRPO worksheet' }).locator('.katex').first()).toBeVisible()
  await expect(page.getByRole('region', { name: 'Reward sandbox' }).getByLabel('Completion 1 reward')).toHaveAttribute('data-value', /\d/)
  const widths = await page.evaluate(() => {
    // what shows of an element: the box it scrolls in (itself, or its nearest ancestor that clips or scrolls)
    const box = (e: Element) => {
      for (let x: Element | null = e; x; x = x.parentElement) if (getComputedStyle(x).overflowX !== 'visible') return x
      return e
    }
    const right = (sel: string) => Math.max(0, ...Array.from(document.querySelectorAll(sel), (e) => box(e).getBoundingClientRect().right))
    return {
      scroll: document.documentElement.scrollWidth,
      charts: right('.uplot-box canvas'), tex: right('.tex'), tables: right('table'), panels: right('.panel'),
      texScrolls: Array.from(document.querySelectorAll('.tex')).some((e) => e.scrollWidth > e.clientWidth),
    }
  })
  expect(widths.scroll).toBeLessThanOrEqual(360)
  for (const k of ['charts', 'tex', 'tables', 'panels'] as const) expect(widths[k], k).toBeLessThanOrEqual(360)
  expect(widths.texScrolls, 'a formula wider than the screen scrolls inside its box').toBe(true)
  // the layout stacked: the controls above the run
  const aside = await page.locator('aside').boundingBox()
  const run = await page.locator('.run').boundingBox()
  expect(run!.y).toBeGreaterThan(aside!.y + aside!.height - 1)
  await page.getByRole('img', { name: 'Reward chart' }).scrollIntoViewIfNeeded()
  await page.screenshot({ path: 'docs/screenshots/phone-lab.png' })
  await context.close()
})
