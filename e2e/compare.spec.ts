// Runs side by side: two runs of the echo toy with two knobs changed are drawn together, named by
// their change from the first, with a table of their final figures; a run file made here and a
// run saved in this browser join them and leave again; pressing and dragging on a chart moves the
// trace viewer to that step.
import { expect, type Page, test } from '@playwright/test'
import { ECHO_VALUES } from '../src/lab/presets'
import { RUN_FILE_FORMAT } from '../src/lab/runFile'
import { resolveRunConfig } from '../src/rl/config'
import { echoLink, openLab, startAndFinish, TRAINING_LIMIT } from './helpers'

const STEPS = 6
const CHANGE = 'scale_rewards: group→none, beta: 0→0.04'

type LabWindow = { grpoLab: typeof import('../src/store/labStore').useLab }
/** The last metrics of the runs on the page: the shown one and those compared, by id. */
const lastOf = (page: Page) => page.evaluate(() => {
  const s = (globalThis as unknown as LabWindow).grpoLab.getState()
  const out: Record<string, Record<string, number>> = {}
  for (const r of [...s.compared, ...(s.run ? [s.run] : [])]) out[r.id] = r.metrics.at(-1) ?? {}
  return out
})
/** The table's way of writing a figure ('–': a figure the run does not log). */
const fig = (v: number | undefined) => (v === undefined ? '–' : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3))

const seriesOf = async (page: Page, chart: string) =>
  JSON.parse((await page.getByRole('img', { name: `${chart} chart` }).getAttribute('data-series'))!) as { label: string; color: string }[]

/** The plot area of a chart, and where on it a step lies (the x axis spans steps 1…last). */
async function stepPlace(page: Page, chart: string, last: number) {
  const over = page.getByRole('img', { name: `${chart} chart` }).locator('.u-over')
  await over.scrollIntoViewIfNeeded()
  // hovered first: a legend that changes as the pointer leaves another chart can move this one
  await over.hover()
  const r = (await over.boundingBox())!
  return (step: number) => ({ x: r.x + ((step - 1) / (last - 1)) * r.width, y: r.y + r.height / 2 })
}

test('two runs with a changed knob: both drawn, named by the change, their final figures side by side; scrubbing moves the traces', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  const t0 = Date.now()
  await openLab(page, echoLink({ max_steps: STEPS }))
  await startAndFinish(page, STEPS)
  const firstId = (await page.locator('[data-run-id]').first().getAttribute('data-run-id'))!
  await page.getByLabel('scale_rewards', { exact: true }).selectOption('none')
  const beta = page.getByLabel('beta', { exact: true })
  await beta.fill('0.04')
  await beta.press('Enter')
  await startAndFinish(page, STEPS)

  // both drawn: a colour per run, every series of both filled to the last step
  const legend = page.getByRole('list', { name: 'Runs on the charts' })
  await expect(legend.getByRole('listitem').nth(0)).toContainText('baseline')
  await expect(legend.getByRole('listitem').nth(1)).toHaveText(`2 ${CHANGE}`)
  const reward = await seriesOf(page, 'Reward')
  const base = reward.find((s) => s.label === 'reward (baseline)')!
  const changed = reward.find((s) => s.label === `reward (${CHANGE})`)!
  expect(base.color).not.toBe(changed.color)
  // the chart's own legend numbers them as the list does
  await expect(page.getByRole('img', { name: 'Loss chart' }).locator('.u-legend .u-label')).toHaveText(['step', 'loss · 1', 'loss · 2'])
  const loss = await seriesOf(page, 'Loss')
  expect(loss.map((s) => s.label)).toEqual(['loss (baseline)', `loss (${CHANGE})`])
  await expect(page.getByRole('img', { name: 'Loss chart' })).toHaveAttribute('data-filled', JSON.stringify([STEPS, STEPS]))
  // KL is logged only with β > 0: the second run's alone
  expect((await seriesOf(page, 'KL')).map((s) => s.label)).toEqual([`kl (${CHANGE})`])

  // the table: a row per run, named as in the legend, each figure its run's last step
  const table = page.getByRole('table', { name: 'Final figures of the runs compared' })
  const rows = table.locator('tbody tr')
  await expect(rows).toHaveCount(2)
  const last = await lastOf(page)
  const secondId = (await page.locator('p[data-run-id]').getAttribute('data-run-id'))!
  for (const [i, [id, name]] of [[firstId, 'baseline'], [secondId, CHANGE]].entries()) {
    const cells = rows.nth(i).locator('td')
    await expect(rows.nth(i).locator('th')).toContainText(name)
    await expect(cells.nth(1)).toHaveText(String(STEPS))
    await expect(cells.nth(2)).toHaveText(fig(last[id].reward))
    await expect(cells.nth(3)).toHaveText(fig(last[id].accuracy))
    await expect(cells.nth(5)).toHaveText(fig(last[id]['completions/mean_length']))
    await expect(cells.nth(6)).toHaveText(fig(last[id].kl))
  }
  expect(last[firstId].kl).toBeUndefined()
  expect(last[secondId].kl).toBeGreaterThan(0)

  // a run file made here (the first config, seed 2) joins as a third run, named by its seed, then leaves
  const file = {
    format: RUN_FILE_FORMAT, version: 1, name: 'seed two', config: resolveRunConfig({ ...ECHO_VALUES, max_steps: STEPS, seed: 2 }),
    metrics: [1, 2, 3].map((step) => ({ step, reward: step / 4, accuracy: step / 4, kl: 0, 'completions/mean_length': 3 })), traces: [], evals: [],
  }
  await page.getByLabel('Compare run file').setInputFiles({ name: 'seed2.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) })
  await expect(rows).toHaveCount(3)
  await expect(rows.nth(2).locator('th')).toHaveText('same config, seed 1→2')
  await expect(rows.nth(2).locator('td').nth(2)).toHaveText('0.750')
  await expect(legend.getByRole('listitem').nth(1)).toHaveText(`2 ${CHANGE}`) // the shown run kept its place
  await page.getByRole('button', { name: 'Remove same config, seed 1→2 from the comparison' }).click()
  await expect(rows).toHaveCount(2)

  // scrubbing: a press on a chart shows that step in the traces, a drag follows the pointer, and
  // every chart marks the step shown
  const shownStep = page.getByRole('region', { name: 'Traces' }).getByLabel('Shown trace step')
  const at = await stepPlace(page, 'Reward', STEPS)
  await page.mouse.click(at(2).x, at(2).y)
  await expect(shownStep).toHaveText('step 2')
  await page.mouse.move(at(3).x, at(3).y)
  await page.mouse.down()
  await page.mouse.move(at(5).x, at(5).y, { steps: 4 })
  await page.mouse.up()
  await expect(shownStep).toHaveText('step 5')
  await expect(page.getByRole('img', { name: 'Loss chart' })).toHaveAttribute('data-mark', '5')
  const onKl = await stepPlace(page, 'KL', STEPS)
  await page.mouse.click(onKl(1).x + 1, onKl(1).y)
  await expect(shownStep).toHaveText('step 1')
  await page.mouse.click(onKl(STEPS).x - 1, onKl(STEPS).y)
  await expect(shownStep).toHaveText(`step ${STEPS} (latest)`)
  await expect(page.getByRole('img', { name: 'Loss chart' })).toHaveAttribute('data-mark', '')

  // cleared, then the first run back from this browser's storage: now it is the one named by its change
  await page.getByRole('button', { name: 'Clear comparison' }).click()
  await expect(table).toHaveCount(0)
  await expect(page.getByRole('img', { name: 'Loss chart' })).toHaveAttribute('data-filled', JSON.stringify([STEPS])) // the shown run alone
  await page.getByLabel('Compare with a saved run').selectOption(firstId)
  await expect(rows).toHaveCount(2)
  await expect(rows.nth(1).locator('th')).toHaveText('scale_rewards: none→group, beta: 0.04→0')
  await expect(rows.nth(1).locator('td').nth(0)).toHaveText('saved')
  await expect(rows.nth(1).locator('td').nth(2)).toHaveText(fig(last[firstId].reward))
  console.log(`compare spec: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
})
