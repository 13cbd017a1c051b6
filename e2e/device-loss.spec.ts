// A lost GPU device, for real: the worker's GPUDevice.destroy() (a test-only message) resolves
// device.lost as a driver reset does. The run stops with a message, every step shown stays, and
// Resume goes on in the same page on a new device from the last snapshot, recomputing the steps
// after it bit for bit (same adapter). Pretraining and evaluation are handled the same way.
import { expect, type Page, test } from '@playwright/test'
import { echoLink, loseDevice, openLab, runInStore, shownStep, withoutTiming } from './helpers'

const lostAlert = (page: Page) => page.getByRole('alert').filter({ hasText: 'The GPU device was lost' })

/** Start a long pretraining, destroy the device while it runs, and see the message say so. */
async function loseDeviceWhilePretraining(page: Page): Promise<void> {
  await page.getByLabel('Pretrain steps').fill('5000')
  await page.getByRole('button', { name: 'Pretrain base model' }).click()
  await expect(page.getByRole('progressbar', { name: /Pretraining the echo base model: step [1-9]/ })).toBeVisible()
  await loseDevice(page)
  await expect(lostAlert(page)).toContainText('during pretraining (destroyed')
  await expect(lostAlert(page)).toContainText('Pretrain again')
}

test('a device lost mid-run: the steps stay, Resume continues on a new device without a reload, identically', async ({ page }) => {
  await openLab(page, echoLink())
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('WebGPU')
  await page.evaluate(() => Object.assign(globalThis, { sameDocument: true })) // gone if the page reloads
  // a step a second, so that the loss comes after a step past a snapshot, not at one: the steps
  // between the snapshot and the loss are then recomputed
  await page.getByLabel('Speed').selectOption({ label: '1 step / second' })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(async () => { const s = await shownStep(page); return s >= 7 && s % 5 !== 0 }).toBe(true)
  await loseDevice(page)
  await expect(lostAlert(page)).toContainText('during training (destroyed')
  await expect(page.getByLabel('Run state')).toHaveText('idle')
  const before = (await runInStore(page)).metrics
  const lostAt = before.length
  expect(before.map((m) => m.step)).toEqual(Array.from({ length: lostAt }, (_, i) => i + 1)) // nothing shown was lost
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(lostAt))
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(lostAt))
  const from = Number((await lostAlert(page).textContent())!.match(/from step (\d+)/)![1])
  expect(from % 5).toBe(0)
  expect(from).toBeLessThan(lostAt)
  if (process.env.SCREENSHOTS) await page.screenshot({ path: 'docs/lab-device-lost.png' })

  await lostAlert(page).getByRole('button', { name: 'Resume on a new device' }).click()
  await expect(lostAlert(page)).toHaveCount(0)
  await expect.poll(() => shownStep(page)).toBeGreaterThan(lostAt + 1)
  expect(await page.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true)
  await expect(page.getByRole('status', { name: 'Adapter' })).toContainText('WebGPU')
  const after = (await runInStore(page)).metrics
  expect(after.map((m) => m.step)).toEqual(Array.from({ length: after.length }, (_, i) => i + 1)) // each step once
  // the steps after the snapshot were recomputed on the new device: the same bits
  expect(after.slice(0, lostAt).map(withoutTiming)).toEqual(before.map(withoutTiming))
  // and they were recomputed, not merely kept: a step's time is never the same twice
  expect(after[lostAt - 1].step_time).not.toBe(before[lostAt - 1].step_time)
})

test('a device lost during an evaluation: the same message and Resume', async ({ page }) => {
  await openLab(page, echoLink({ eval_every: 3, eval_problems: 512 }))
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByRole('progressbar', { name: /Evaluating on 512 held-out problems/ })).toBeVisible()
  await loseDevice(page)
  await expect(lostAlert(page)).toContainText('during evaluation (destroyed')
  await expect(page.getByRole('progressbar', { name: /Evaluating/ })).toHaveCount(0)
  const lostAt = await shownStep(page)
  expect(lostAt).toBeGreaterThanOrEqual(3)
  await lostAlert(page).getByRole('button', { name: 'Resume on a new device' }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(lostAt)
  await expect(page.getByLabel('Eval accuracy')).toHaveText(/^\d+(\.\d)?%$/)
})

test('a device lost during pretraining: the progress bar goes, a message says so, and pretraining again works', async ({ page }) => {
  await openLab(page, echoLink())
  await loseDeviceWhilePretraining(page)
  await expect(page.getByRole('progressbar', { name: /Pretraining/ })).toHaveCount(0)
  await page.getByLabel('Pretrain steps').fill('20')
  await page.getByRole('button', { name: 'Pretrain base model' }).click()
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)')
})

test('a device lost during pretraining beside a paused run: the run resumes on a new device from its last snapshot', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByLabel('Speed').selectOption({ label: '1 step / second' })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(5)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const paused = await shownStep(page)
  await loseDeviceWhilePretraining(page)
  expect(await shownStep(page)).toBe(paused) // every step shown stays
  await lostAlert(page).getByRole('button', { name: 'Resume on a new device' }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(paused)
  const after = (await runInStore(page)).metrics
  expect(after.map((m) => m.step)).toEqual(Array.from({ length: after.length }, (_, i) => i + 1))
})
