// Shared by the e2e tests: small configurations that train in seconds on SwiftShader.
import { expect, type Page } from '@playwright/test'
import { encodeLink } from '../src/lab/link'
import { ECHO_VALUES } from '../src/lab/presets'
import { resolveRunConfig, type RunConfig } from '../src/rl/config'

/** The echo toy as a share link fragment (a fresh 1-layer model; a step takes ~0.1 s). */
export function echoLink(extra: Partial<RunConfig> = {}, hidden: string[] = [], autostart = false): string {
  return encodeLink(resolveRunConfig({ ...ECHO_VALUES, ...extra }), hidden, autostart)
}

export async function openLab(page: Page, fragment: string, query = ''): Promise<void> {
  await page.goto(`/${query}${fragment}`)
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
}

export async function shownStep(page: Page): Promise<number> {
  return Number(await page.getByLabel('Step', { exact: true }).textContent()) || 0
}

export async function lastMetrics(page: Page): Promise<Record<string, number>> {
  return JSON.parse((await page.getByLabel('Last GRPO metrics').textContent()) || '{}')
}

const TIMING = ['step_time', 'dispatches', 'submits', 'bytes_up', 'bytes_down']
/** Metrics without the ones that measure time or depend on the backend's bookkeeping. */
export const withoutTiming = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !TIMING.includes(k)))

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
