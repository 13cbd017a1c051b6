// Replays (src/lab/replay.ts, src/store/replayStore.ts) in a browser without WebGPU: a replay=1
// link plays the preset's recorded run at once — while the engine is still loading (its kernels
// held back here) — with its charts, traces and worksheet; "Run it live" then trains the same
// settings on the page's CPU backend and reproduces the recorded numbers bit for bit. On a phone
// viewport (360 × 740) it plays too: docs/lab-replay-phone.png is that screenshot (the README's).
import { readFileSync } from 'node:fs'
import { expect, type Page, test } from '@playwright/test'
// @ts-expect-error plain ESM helper shared with the scripts
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs'
import { encodeLink } from '../src/lab/link'
import { ECHO_VALUES } from '../src/lab/presets'
import { parseReplay } from '../src/lab/replay'
import { DEFAULT_RUN_CONFIG, resolveRunConfig, type RunConfig } from '../src/rl/config'
import { expectBackend, runInStore, TRAINING_LIMIT, withoutTiming } from './helpers'

test.use({
  launchOptions: {
    executablePath: findChromium(),
    args: (CHROMIUM_ARGS as string[]).filter((a) => a !== '--enable-unsafe-webgpu'),
  },
})

const replayLink = (values: Partial<RunConfig>) => encodeLink(resolveRunConfig({ ...DEFAULT_RUN_CONFIG, ...values }), [], false, { replay: true })
const recorded = (id: string) => parseReplay(readFileSync(`public/replays/${id}.json`, 'utf8'))
const replayPanel = (page: Page) => page.getByRole('region', { name: 'Replay' })
const replayedStep = (page: Page) => page.getByLabel('Replayed step')

/** Hold the fast CPU backend's kernels back until the returned function is called: the engine stays loading. */
async function holdEngine(page: Page): Promise<() => void> {
  let release!: () => void
  const held = new Promise<void>((r) => { release = r })
  await page.route(/\.wasm$/, async (route) => { await held; await route.continue() })
  return release
}

test('a replay link plays the recorded run before the engine is ready; Run it live reproduces its numbers', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  const replay = recorded('echo')
  const release = await holdEngine(page)
  await page.goto('/' + replayLink(ECHO_VALUES))
  const panel = replayPanel(page)
  await expect(panel.getByLabel('Replay notice')).toContainText('Replay of a recorded run')
  await expect(panel.getByLabel('Replay notice')).toContainText(`all ${replay.steps} steps, recorded on the fast CPU backend (WebAssembly SIMD + relaxed FMA)`)
  // it plays on its own (the default narrative needs no click); Pause, then Step: one recorded step
  await expect.poll(async () => Number(await replayedStep(page).textContent()) || 0).toBeGreaterThan(2)
  await panel.getByRole('button', { name: 'Pause' }).click()
  const at = Number(await replayedStep(page).textContent())
  await panel.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(replayedStep(page)).toHaveText(String(at + 1))
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(at + 1))
  await panel.getByLabel('Replay speed').selectOption({ label: 'All at once' })
  await panel.getByRole('button', { name: 'Play' }).click()
  await expect(replayedStep(page)).toHaveText(String(replay.steps))
  // all the while the engine has not started: nothing waited for it
  await expect(page.getByLabel('Run state')).toHaveText('loading')
  for (const chart of ['Reward', 'Accuracy', 'Loss']) {
    await expect(page.getByRole('img', { name: `${chart} chart` })).toHaveAttribute('data-points', String(replay.steps))
  }
  expect((await runInStore(page)).metrics.map(withoutTiming)).toEqual(replay.run.metrics.map(withoutTiming))
  // traces: the last kept step, and an earlier one by the step slider
  const traces = page.getByRole('region', { name: 'Traces' })
  await expect(traces.getByLabel('Shown trace step')).toHaveText(`step ${replay.steps} (latest)`)
  const last = replay.run.traces.at(-1)!
  await expect(traces.getByRole('group', { name: 'Group 1' })).toContainText(last.groups[0].prompt)
  await expect(traces.getByRole('group')).toHaveCount(last.groups.length)
  await traces.getByRole('slider', { name: 'Trace step' }).fill('9') // index 9: step 10, a kept one
  await expect(traces.getByLabel('Shown trace step')).toHaveText('step 10')
  await expect(traces.getByRole('group', { name: 'Group 1' })).toContainText(replay.run.traces[1].groups[0].prompt)
  await traces.getByRole('slider', { name: 'Trace step' }).fill('4') // step 5: not kept, and said so
  await expect(traces).toContainText('keeps the traces of step 1 and every 10th step')
  // the worksheet on the recorded log-probs of group 1 of the last kept step
  const worksheet = page.getByRole('region', { name: 'GRPO worksheet' })
  await expect(worksheet).toContainText(`recorded with this replay`)
  await expect(worksheet.getByRole('table', { name: 'Worksheet per completion' }).locator('tbody tr')).toHaveCount(last.groups[0].completions.length)
  const advantages = await worksheet.getByRole('table', { name: 'Worksheet per completion' }).locator('tbody tr td:nth-child(3)').allTextContents()
  expect(advantages.map(Number)).toEqual(last.groups[0].completions.map((c) => Number(c.advantage.toFixed(3)) || 0))

  // Run it live, pressed while the engine still loads: it starts once the engine is ready
  await panel.getByRole('button', { name: 'Run it live' }).click()
  const t0 = Date.now()
  release()
  await expect(page.locator('[data-run-id]')).not.toHaveAttribute('data-run-id', /^replay-/)
  // (the replay stays on the charts beside it, dashed: the live run's own first step in the store)
  await expect.poll(async () => (await runInStore(page)).metrics.length, { timeout: TRAINING_LIMIT }).toBeGreaterThan(0)
  console.log(`replay.spec: the engine released → the live run's first step shown: ${Date.now() - t0} ms`) // measured, never asserted
  await expectBackend(page, 'cpu')
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('WebAssembly SIMD + relaxed FMA')
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: TRAINING_LIMIT })
  await expect(page.locator('[data-run-id]')).not.toHaveAttribute('data-run-id', /^replay-/)
  const live = await runInStore(page)
  expect(live.metrics.map(withoutTiming)).toEqual(replay.run.metrics.map(withoutTiming))
  expect(page.url()).not.toContain('replay=1')
})

test('a replay link of settings without a recorded run says which replays exist; the lab trains live', async ({ page }) => {
  await page.goto('/' + replayLink({ ...ECHO_VALUES, seed: 5 }))
  await expect(page.getByRole('alert').filter({ hasText: 'Replays exist for: echo' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  await expect(replayPanel(page)).toHaveCount(0)
})

test('a replay plays on a 360 × 740 phone screen', async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 })
  const replay = recorded('addition')
  const t0 = Date.now()
  await page.goto('/' + replayLink({}))
  const panel = replayPanel(page)
  await expect(page.getByRole('img', { name: 'Reward chart' })).not.toHaveAttribute('data-points', '0')
  console.log(`replay.spec: opening the replay link → its first step drawn (phone): ${Date.now() - t0} ms`) // measured, never asserted
  await expect(panel.getByLabel('Replay notice')).toContainText('Replay of a recorded run')
  await panel.getByLabel('Replay speed').selectOption({ label: 'All at once' })
  await expect(replayedStep(page)).toHaveText(String(replay.steps))
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(replay.steps))
  // the player fits the screen: nothing of it is cut off on the right
  const box = (await panel.boundingBox())!
  expect(box.x + box.width).toBeLessThanOrEqual(360)
  // the screenshot from the player down: it, the headline numbers and the first charts
  await page.evaluate((top) => window.scrollTo(0, top - 8), box.y)
  await page.screenshot({ path: 'docs/lab-replay-phone.png' })
})
