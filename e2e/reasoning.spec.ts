// The reasoning curves in the page: the Reasoning chart (tries, checks, "wait"), Verification
// (verified share, accuracy verified vs unverified), Tries, Response length (correct vs incorrect)
// and Behaviour (reflection, truncation, zero-std groups) fill with the run's own metrics, which
// equal the reasoning metrics recomputed here from the run's exported traces; a compared run adds
// its series to them, in a colour of its own.
import { expect, type Page, test } from '@playwright/test'
import { encodeLink } from '../src/lab/link'
import type { RunFile } from '../src/lab/runFile'
import { resolveRunConfig } from '../src/rl/config'
import { reasoningMetrics } from '../src/rl/reasoning'
import { getTask } from '../src/tasks/registry'
import { download, echoLink, openLab, startAndFinish, TRAINING_LIMIT } from './helpers'

const CHARTS: Record<string, string[]> = {
  Reasoning: ['reflection/try_rate', 'reflection/check_rate', 'reflection/wait_rate'],
  Verification: ['verified_rate', 'accuracy/verified', 'accuracy/unverified'],
  Tries: ['reasoning/tries_mean'],
  'Response length': ['completions/mean_length', 'length_correct', 'length_incorrect'],
  Behaviour: ['reflection_rate', 'completions/clipped_ratio', 'frac_reward_zero_std'],
}

/** Each chart's series, and how many steps each has a value at, are the exported run's. */
async function expectChartsOf(page: Page, run: RunFile, steps: number): Promise<void> {
  for (const [chart, keys] of Object.entries(CHARTS)) {
    const img = page.getByRole('img', { name: `${chart} chart` })
    await expect(img).toHaveAttribute('data-points', String(steps))
    const filled = keys.map((k) => run.metrics.filter((m) => typeof m[k] === 'number' && Number.isFinite(m[k])).length)
    await expect(img, chart).toHaveAttribute('data-filled', JSON.stringify(filled))
  }
  // the rates are defined at every step
  for (const k of CHARTS.Reasoning) expect(run.metrics.every((m) => typeof m[k] === 'number'), k).toBe(true)
}

/** The reasoning metrics each step logged are those of its own completions (the exported traces). */
function expectMetricsFromTraces(run: RunFile, task: string): void {
  for (const t of run.traces) {
    const done = t.groups.flatMap((g) => g.completions)
    const want = reasoningMetrics(getTask(task), done.map((c) => c.text), done.map((c) => c.correct))
    const got = run.metrics.find((m) => m.step === t.step)!
    for (const [k, v] of Object.entries(want)) expect(got[k] ?? NaN, `${k} at step ${t.step}`).toBe(Number.isNaN(v) ? NaN : v)
  }
}

async function exported(page: Page): Promise<{ run: RunFile; bytes: Buffer }> {
  const { bytes } = await download(page, 'Export run')
  return { run: JSON.parse(bytes.toString('utf8')), bytes }
}

test('echo: the reasoning charts fill with the run\'s metrics, and a compared run joins them in its own colour', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink({ max_steps: 5 }))
  await startAndFinish(page, 5)
  const { run } = await exported(page)
  expect(run.metrics).toHaveLength(5)
  await expectChartsOf(page, run, 5)
  expectMetricsFromTraces(run, 'echo')

  const other = { ...run, name: 'other run' }
  await page.getByLabel('Compare run file').setInputFiles({ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(other)) })
  for (const [chart, keys] of Object.entries(CHARTS)) {
    const img = page.getByRole('img', { name: `${chart} chart` })
    await expect(img).toHaveAttribute('data-series', /other run/)
    const series = JSON.parse((await img.getAttribute('data-series'))!) as { label: string; color: string }[]
    const theirs = series.filter((s) => s.label.endsWith('(same config: other run)'))
    const mine = series.filter((s) => s.label.endsWith('(baseline)'))
    expect(theirs.length, chart).toBe(keys.length)
    expect(mine.length, chart).toBe(keys.length)
    // a colour per run, the same for each of its series
    expect(new Set(theirs.map((s) => s.color)).size, chart).toBe(1)
    expect(theirs[0].color, chart).not.toBe(mine[0].color)
  }
})

test('countdown from its shipped base: the reasoning metrics of its worked searches, step by step', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  const config = resolveRunConfig({ task: 'countdown', base_model: 'countdown', max_steps: 2, prompts_per_step: 2, num_generations: 4, max_completion_length: 48 })
  await openLab(page, encodeLink(config, [], false))
  await startAndFinish(page, 2)
  const { run } = await exported(page)
  await expectChartsOf(page, run, 2)
  expectMetricsFromTraces(run, 'countdown')
})
