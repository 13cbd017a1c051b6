// Storage that fails, and storage that holds long runs. IndexedDB missing (some private windows)
// or full (quota): the run goes on in memory, one message says it will not survive a reload and
// offers Export run, and what was stored before stays intact. A long run keeps only its recent
// traces in the page's memory; older ones are read back from IndexedDB when browsed to.
import { readFileSync } from 'node:fs'
import { expect, type Page, test } from '@playwright/test'
import { TRACE_WINDOW } from '../src/store/runDb'
import { echoLink, openLab, runInStore, shownStep, withoutTiming } from './helpers'

const storageAlert = (page: Page) => page.getByRole('alert').filter({ hasText: 'will not survive a reload' })

/** How many records of the page's current run an object store of IndexedDB holds. */
function storedCount(page: Page, store: 'steps' | 'evals'): Promise<number> {
  return page.evaluate((store) => new Promise<number>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const runId = localStorage.getItem('grpo-lab:current-run')!
      const count = req.result.transaction(store).objectStore(store).count(IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]))
      count.onsuccess = () => { resolve(count.result); req.result.close() }
    }
    req.onerror = () => reject(req.error)
  }), store)
}

test('IndexedDB unavailable: the run goes on in memory, one message offers Export run', async ({ page }) => {
  await page.addInitScript(() => {
    IDBFactory.prototype.open = () => { throw new DOMException('IndexedDB is disabled in this private window', 'InvalidStateError') }
  })
  await openLab(page, echoLink({ max_steps: 12 }), '?backend=cpu')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done')
  expect(await shownStep(page)).toBe(12)
  await expect(storageAlert(page)).toHaveCount(1) // one message, not one per step or snapshot
  await expect(storageAlert(page)).toContainText('InvalidStateError: IndexedDB is disabled in this private window')
  await expect(page.getByRole('alert')).toHaveCount(1)
  if (process.env.SCREENSHOTS) await page.screenshot({ path: 'docs/lab-no-storage.png' })
  const exported = page.waitForEvent('download')
  await storageAlert(page).getByRole('button', { name: 'Export run' }).click()
  const file = JSON.parse(readFileSync(await (await exported).path(), 'utf8'))
  expect(file.metrics.map((m: { step: number }) => m.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
  expect(file.traces).toHaveLength(12)
})

test('IndexedDB full (QuotaExceededError): one message, the run goes on, what was stored stays intact', async ({ page }) => {
  // an evaluation every step: each batch written is a step and its evaluation, in one transaction
  await openLab(page, echoLink({ eval_every: 1, eval_problems: 8 }), '?backend=cpu')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(6)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const stored = (await runInStore(page)).metrics
  await expect.poll(() => storedCount(page, 'steps')).toBe(stored.length)
  await expect.poll(() => storedCount(page, 'evals')).toBe(stored.length)

  // the disk fills up: one more record fits (the next step, not its evaluation), then none
  await page.evaluate(() => {
    const put = IDBObjectStore.prototype.put
    let room = 1
    IDBObjectStore.prototype.put = function (...args) {
      if (room-- <= 0) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
      return put.apply(this, args)
    }
  })
  await page.getByRole('button', { name: 'Resume' }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(stored.length + 11) // two snapshots and many batches later
  await expect(storageAlert(page)).toHaveCount(1)
  await expect(storageAlert(page)).toContainText('QuotaExceededError')
  await expect(page.getByRole('alert')).toHaveCount(1)
  // the batch that did not fit is not there in part: no step without its evaluation
  expect(await storedCount(page, 'steps')).toBe(stored.length)
  expect(await storedCount(page, 'evals')).toBe(stored.length)

  // after a reload (storage works again): the run as stored, whole, and it resumes
  await page.reload()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(stored.length))
  const reloaded = await runInStore(page)
  expect(reloaded.metrics.map(withoutTiming)).toEqual(stored.map(withoutTiming))
  expect(reloaded.evalSteps).toEqual(stored.map((m) => m.step))
  await page.getByRole('button', { name: `Resume from step ${stored.length}` }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(stored.length)
})

test(`a run of 2 000 steps keeps ${TRACE_WINDOW} steps of traces in memory; older ones are read back from IndexedDB`, async ({ page }) => {
  test.setTimeout(300_000)
  const steps = 2000
  await openLab(page, echoLink({ num_generations: 4, prompts_per_step: 2, n_embd: 16, max_steps: steps }), '?backend=cpu')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: 240_000 })
  await expect.poll(async () => (await runInStore(page)).traceSteps.length).toBe(TRACE_WINDOW)
  const { metrics, traceSteps } = await runInStore(page)
  expect(metrics).toHaveLength(steps)
  expect(traceSteps[0]).toBe(steps - TRACE_WINDOW + 1)

  const traces = page.getByRole('region', { name: 'Traces' })
  await traces.getByLabel('Trace step', { exact: true }).fill('0') // step 1: not in memory
  await expect(traces.getByLabel('Shown trace step')).toHaveText('step 1')
  const stepOne = await page.evaluate(() => new Promise<{ prompt: string; completions: { text: string }[] }[]>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const get = req.result.transaction('steps').objectStore('steps').get([localStorage.getItem('grpo-lab:current-run')!, 1])
      get.onsuccess = () => { resolve(get.result.trace.groups); req.result.close() }
    }
    req.onerror = () => reject(req.error)
  }))
  const group = traces.getByRole('group', { name: 'Group 1' })
  await expect(group.locator('.prompt')).toHaveText(stepOne[0].prompt)
  await expect(group.locator('tbody tr')).toHaveCount(stepOne[0].completions.length)

  // Export run gathers every step's trace, from memory and from storage
  const exported = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export run' }).click()
  const file = JSON.parse(readFileSync(await (await exported).path(), 'utf8'))
  expect(file.traces.map((t: { step: number }) => t.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1))
})
