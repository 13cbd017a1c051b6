// Shared by the e2e tests: small configurations that train in seconds on SwiftShader, and waits
// on the page's own events (a run id, a step count, a state), never on durations.
import { readFileSync } from 'node:fs'
import { expect, type Page } from '@playwright/test'
import { encodeLink } from '../src/lab/link'
import { ECHO_VALUES } from '../src/lab/presets'
import { SNAPSHOT_EVERY } from '../src/lab/protocol'
import type { RunFile } from '../src/lab/runFile'
import { resolveRunConfig, type RunConfig } from '../src/rl/config'

/** Outer limit for waits on training: generous, so that a loaded machine is slow, not failing. */
export const TRAINING_LIMIT = 300_000

/** The echo toy as a share link fragment (a fresh 1-layer model; a step takes ~0.1 s). */
export function echoLink(extra: Partial<RunConfig> = {}, hidden: string[] = [], autostart = false): string {
  return encodeLink(resolveRunConfig({ ...ECHO_VALUES, ...extra }), hidden, autostart)
}

const ADAPTERS = {
  webgpu: /^WebGPU: /,
  cpu: /^CPU backend \(WebAssembly SIMD/,
  reference: /^CPU backend \(TypeScript/,
}

/**
 * The adapter the page trains on: the fast CPU backend when asked (?backend=cpu) or when the
 * browser has no WebGPU, the reference CPU backend when asked (?backend=reference: Node's numbers
 * to the bit, whatever SIMD the browser has), else a WebGPU adapter. A page that fell back to
 * another backend silently fails here.
 */
export async function expectBackend(page: Page, backend: keyof typeof ADAPTERS): Promise<void> {
  await expect(page.getByRole('status', { name: 'Adapter' })).toHaveText(ADAPTERS[backend])
}

/** Open the lab at a link; the query picks the backend (?backend=cpu, ?backend=reference), which is checked. */
export async function openLab(page: Page, fragment: string, query = ''): Promise<void> {
  await page.goto(`/${query}${fragment}`)
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  const asked = new URLSearchParams(query).get('backend')
  await expectBackend(page, asked === 'cpu' || asked === 'reference' ? asked : 'webgpu')
}

export async function shownStep(page: Page): Promise<number> {
  return Number(await page.getByLabel('Step', { exact: true }).textContent()) || 0
}

export async function lastMetrics(page: Page): Promise<Record<string, number>> {
  return JSON.parse((await page.getByLabel('Last GRPO metrics').textContent()) || '{}')
}

/** The id of the run on screen ('' when none). */
export async function runId(page: Page): Promise<string> {
  const el = page.locator('[data-run-id]')
  return (await el.count()) ? (await el.getAttribute('data-run-id')) ?? '' : ''
}

/**
 * Press Start and wait until this new run (not the one before it) is done with `steps` steps:
 * a new run id, then its own step count, then the worker's 'done'.
 */
export async function startAndFinish(page: Page, steps: number): Promise<void> {
  const before = await runId(page)
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => runId(page)).not.toBe(before)
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(steps), { timeout: TRAINING_LIMIT })
  await expect(page.getByLabel('Run state')).toHaveText('done')
}

/** Click a button that downloads a file; its name and bytes. */
export async function download(page: Page, button: string): Promise<{ name: string; bytes: Buffer }> {
  const event = page.waitForEvent('download')
  await page.getByRole('button', { name: button, exact: true }).click()
  const d = await event
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) }
}

/** The run on screen through Export run: every step's metrics, traces and evaluations. */
export async function exportedRun(page: Page): Promise<RunFile> {
  return JSON.parse((await download(page, 'Export run')).bytes.toString('utf8'))
}

const TIMING = ['step_time', 'dispatches', 'submits', 'bytes_up', 'bytes_down']
/** Metrics without the ones that measure time or depend on the backend's bookkeeping, NaN as
 *  JSON's null (what the page shows for a metric of an empty set, e.g. length_correct with none right). */
export const withoutTiming = (m: Record<string, number | null>) => Object.fromEntries(Object.entries(m)
  .filter(([k]) => !TIMING.includes(k)).map(([k, v]) => [k, typeof v === 'number' && Number.isNaN(v) ? null : v]))

/** The run's metric rows without timing, in order: the thing two runs of one config must share. */
export const metricRows = (run: RunFile) => run.metrics.map(withoutTiming)

/**
 * Start a run at 1 step / second, reload once it has steps saved after its last snapshot (so
 * that Resume replays them), then Resume (at full speed: the speed is not kept over a reload).
 * The slow speed makes the reload land mid-run on any machine. Returns the new run's id, the
 * steps shown after the reload and the step resumed from.
 */
export async function reloadMidRunAndResume(page: Page): Promise<{ id: string; saved: number; from: number }> {
  const before = await runId(page)
  await page.getByLabel('Speed').selectOption({ label: '1 step / second' })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => runId(page)).not.toBe(before)
  const id = await runId(page)
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(SNAPSHOT_EVERY + 2)
  await expect(page.getByLabel('Run state')).toHaveText('running')
  await page.reload()
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  const resume = page.getByRole('button', { name: /^Resume from step \d+$/ })
  await expect(resume).toBeVisible()
  expect(await runId(page)).toBe(id)
  const saved = await shownStep(page)
  const from = Number((await resume.textContent())!.replace(/\D+/g, ''))
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(saved))
  await resume.click()
  return { id, saved, from }
}

/** IndexedDB's step records of a run, by step (the page's own store, read in the page). */
export async function savedSteps(page: Page, id: string): Promise<number[]> {
  return page.evaluate((runId) => new Promise<number[]>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const all = req.result.transaction('steps').objectStore('steps').getAll(IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]))
      all.onsuccess = () => { resolve((all.result as { step: number }[]).map((s) => s.step)); req.result.close() }
      all.onerror = () => reject(all.error)
    }
    req.onerror = () => reject(req.error)
  }), id)
}

/** The step of a run's snapshot in IndexedDB (0: none stored yet). */
export async function savedSnapshotStep(page: Page, id: string): Promise<number> {
  return page.evaluate((runId) => new Promise<number>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const one = req.result.transaction('snapshots').objectStore('snapshots').get(runId)
      one.onsuccess = () => { resolve((one.result as { step: number } | undefined)?.step ?? 0); req.result.close() }
      one.onerror = () => reject(one.error)
    }
    req.onerror = () => reject(req.error)
  }), id)
}

/** The page exposes its store as window.grpoLab (casts only: page.evaluate runs in the page). */
type LabWindow = { grpoLab: typeof import('../src/store/labStore').useLab }

/** Every step's metrics, and the steps of the traces and evaluations held in memory, from the page's store. */
export function runInStore(page: Page): Promise<{ metrics: Record<string, number>[]; traceSteps: number[]; evalSteps: number[] }> {
  return page.evaluate(() => {
    const run = (globalThis as unknown as LabWindow).grpoLab.getState().run
    return { metrics: run?.metrics ?? [], traceSteps: run?.traces.map((t) => t.step) ?? [], evalSteps: run?.evals.map((e) => e.step) ?? [] }
  })
}

/** Destroy the worker's GPU device (GPUDevice.destroy(): a real loss, as a driver reset). */
export function loseDevice(page: Page): Promise<void> {
  return page.evaluate(() => (globalThis as unknown as LabWindow).grpoLab.getState().send({ type: 'debug-lose-device' }))
}
