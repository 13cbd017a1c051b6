// Resume after a reload is the run that never stopped: a run reloaded mid-way (with steps saved
// after its last snapshot, which Resume replays) ends with the same metrics and traces, step for
// step, as the same link run straight through, on the CPU backend and on WebGPU; no step is
// kept twice in the browser's storage, and a finished run offers no Resume.
import { expect, test } from '@playwright/test'
import { SNAPSHOT_EVERY } from '../src/lab/protocol'
import { echoLink, exportedRun, metricRows, openLab, reloadMidRunAndResume, runId, savedSteps, startAndFinish, TRAINING_LIMIT } from './helpers'

const STEPS = 16
const ALL_STEPS = Array.from({ length: STEPS }, (_, i) => i + 1)

for (const backend of ['cpu', 'webgpu'] as const) {
  test(`${backend}: a run resumed after a reload mid-run equals, step for step, the run that never stopped`, async ({ page }) => {
    test.setTimeout(TRAINING_LIMIT)
    await openLab(page, echoLink({ max_steps: STEPS }), backend === 'cpu' ? '?backend=cpu' : '')
    await startAndFinish(page, STEPS)
    const straight = await exportedRun(page)
    expect(straight.metrics.map((m) => m.step)).toEqual(ALL_STEPS)

    // the same configuration again, reloaded mid-run
    const { id, saved, from } = await reloadMidRunAndResume(page)
    expect(from % SNAPSHOT_EVERY).toBe(0)
    expect(from).toBeLessThan(saved) // steps from+1..saved are replayed
    await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(STEPS), { timeout: TRAINING_LIMIT })
    await expect(page.getByLabel('Run state')).toHaveText('done')

    const resumed = await exportedRun(page)
    expect(resumed.metrics.map((m) => m.step)).toEqual(ALL_STEPS)
    expect(metricRows(resumed)).toEqual(metricRows(straight))
    expect(resumed.traces).toEqual(straight.traces)
    // the browser's copy holds each step once ...
    await expect.poll(() => savedSteps(page, id)).toEqual(ALL_STEPS)
    // ... and a reload of the finished run shows them all and offers no Resume
    await page.reload()
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
    await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(STEPS))
    await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(STEPS))
    expect(await runId(page)).toBe(id)
    await expect(page.getByRole('button', { name: /Resume from step/ })).toHaveCount(0)
  })
}

test('a run started after editing a link\'s values is the run a reload finds: Start writes its link into the address', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink({ max_steps: 8 }), '?backend=cpu')
  await page.getByLabel('seed', { exact: true }).fill('5')
  await page.getByLabel('seed', { exact: true }).press('Enter')
  await startAndFinish(page, 8)
  const id = await runId(page)
  expect(new URL(page.url()).hash).toContain('seed=5')
  await expect.poll(() => savedSteps(page, id)).toHaveLength(8)
  await page.reload()
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('8')
  expect(await runId(page)).toBe(id)
})
