// The lab page as a person uses it: start a run and watch it, Pause / Step / Reset, share links
// (good, malformed, lesson), export and import, a reload mid-run, the worksheet, a missing base
// model. Small echo configurations keep each test to seconds on SwiftShader.
import { readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import { echoLink, lastMetrics, openLab, shownStep, withoutTiming } from './helpers'

test('the default page (R1-Zero addition) starts: a step lands with charts and traces', async ({ page }) => {
  await openLab(page, '')
  await expect(page.getByLabel('Preset', { exact: true })).toHaveValue('addition')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  // the shipped base model (public/models/addition.safetensors) loads: no problem reported
  await expect(page.getByRole('alert')).toHaveCount(0)
  await expect.poll(() => shownStep(page), { timeout: 90_000 }).toBeGreaterThanOrEqual(1)
  await expect(page.getByRole('img', { name: 'Reward chart' })).not.toHaveAttribute('data-points', '0')
  const group = page.getByRole('region', { name: 'Traces' }).getByRole('group', { name: 'Group 1' })
  await expect(group).toContainText('<think>')
  await expect(group.locator('tbody tr')).toHaveCount(8)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused', { timeout: 90_000 })
})

test('the echo demo runs: steps advance, charts and traces fill', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(5)
  await expect(page.getByLabel('Run state')).toHaveText('running')
  for (const chart of ['Reward', 'Accuracy', 'Response length', 'KL', 'Entropy', 'Clip ratio', 'Gradient norm', 'Learning rate']) {
    await expect(page.getByRole('img', { name: `${chart} chart` })).not.toHaveAttribute('data-points', '0')
  }
  const traces = page.getByRole('region', { name: 'Traces' })
  await expect(traces.getByLabel('Shown trace step')).toContainText('(latest)')
  await expect(traces.getByRole('group', { name: 'Group 1' }).locator('tbody tr')).toHaveCount(8)
  // browse back, then filter
  await traces.getByRole('button', { name: 'Previous step' }).click()
  await expect(traces.getByLabel('Shown trace step')).not.toContainText('(latest)')
  await traces.getByLabel('Show correct').check()
  await expect(traces.locator('tbody tr[data-correct="false"]')).toHaveCount(0)
  await traces.getByLabel('Show incorrect').check()
  await expect(traces.locator('tbody tr[data-correct="true"]')).toHaveCount(0)
})

test('evaluation on held-out problems every few steps shows its accuracy', async ({ page }) => {
  await openLab(page, echoLink({ eval_every: 2, eval_problems: 16, max_steps: 6 }))
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done')
  await expect(page.getByLabel('Eval accuracy')).toHaveText(/^\d+(\.\d)?%$/)
  const exported = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export run' }).click()
  const json = JSON.parse(readFileSync(await (await exported).path(), 'utf8'))
  expect(json.evals.map((e: { step: number }) => e.step)).toEqual([2, 4, 6])
})

test('Pause stops the steps, Step advances exactly one, Reset clears the run', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const at = await shownStep(page)
  await page.waitForTimeout(700)
  expect(await shownStep(page)).toBe(at)
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(at + 1))
  await page.getByRole('button', { name: 'Resume' }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(at + 1)
  await page.getByRole('button', { name: 'Reset' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('idle')
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('–')
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', '0')
})

test('Copy link, then the link in a new page gives the same configuration and the same first metrics', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'])
  await openLab(page, '')
  await page.getByLabel('Preset', { exact: true }).selectOption({ label: 'Echo (toy, fast)' })
  await page.getByLabel('beta', { exact: true }).fill('0.04')
  await page.getByLabel('beta', { exact: true }).press('Enter')
  await page.getByLabel('seed', { exact: true }).fill('5')
  await page.getByLabel('seed', { exact: true }).press('Enter')
  await page.getByRole('button', { name: 'Copy link' }).click()
  const link = await page.evaluate(() => navigator.clipboard.readText())
  expect(link).toContain('#v=1&task=echo&seed=5')
  expect(link).toContain('beta=0.04')
  expect(await page.getByLabel('Share link').inputValue()).toBe(link)
  // Step from idle: build the model and take exactly one step
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  const first = await lastMetrics(page)

  const other = await context.newPage()
  await other.goto(link)
  await expect(other.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  await expect(other.getByRole('alert')).toHaveCount(0)
  for (const [key, value] of [['task', 'echo'], ['seed', '5'], ['beta', '0.04'], ['n_embd', '32'], ['max_completion_length', '4']]) {
    await expect(other.getByLabel(key, { exact: true })).toHaveValue(value)
  }
  await expect(other.getByLabel('Preset', { exact: true })).toHaveValue('')
  await other.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(other.getByLabel('Step', { exact: true })).toHaveText('1')
  expect(withoutTiming(await lastMetrics(other))).toEqual(withoutTiming(first))
})

test('a malformed or hostile link shows what is wrong and the lab opens with defaults', async ({ page }) => {
  await page.goto('/#v=1&num_generations=1&loss_type=ppo&task=%3Cimg%20src%3Dx%20onerror%3D%22window.pwned%3D1%22%3E&beta=0.04&bogus_hide=1')
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  const alert = page.getByRole('alert', { name: 'Link problems' })
  await expect(alert).toContainText('num_generations')
  await expect(alert).toContainText('an integer from 2 to 64')
  await expect(alert).toContainText('loss_type')
  await expect(alert).toContainText('grpo, bnpo, dr_grpo, dapo')
  await expect(alert).toContainText('task')
  await expect(alert).toContainText('bogus_hide')
  // the bad values are at their defaults, the good one is kept, nothing was injected
  await expect(page.getByLabel('num_generations', { exact: true })).toHaveValue('8')
  await expect(page.getByLabel('loss_type', { exact: true })).toHaveValue('grpo')
  await expect(page.getByLabel('task', { exact: true })).toHaveValue('addition')
  await expect(page.getByLabel('beta', { exact: true })).toHaveValue('0.04')
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined()
  await expect(page.locator('img[src="x"]')).toHaveCount(0)
})

test('the lesson options write hides and autostart into the share link', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByText('Lesson link: hide controls').click()
  await page.getByLabel('Hide worksheet').check()
  await page.getByLabel('Start automatically').check()
  await expect(page.getByLabel('Share link')).toHaveValue(/&worksheet_hide=1&autostart=1$/)
  await expect(page.getByRole('region', { name: 'GRPO worksheet' })).toHaveCount(0)
})

test('the speed control spaces the steps out', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByLabel('Speed').selectOption({ label: '1 step / 3 seconds' })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  await page.waitForTimeout(1500)
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  await page.getByLabel('Speed').selectOption({ label: 'Full speed' })
  await expect.poll(() => shownStep(page)).toBeGreaterThan(3)
})

test('a lesson link hides the chosen controls and starts the run', async ({ page }) => {
  await page.goto('/' + echoLink({}, ['beta', 'worksheet'], true))
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await expect(page.getByLabel('beta', { exact: true })).toHaveCount(0)
  await expect(page.getByLabel('epsilon', { exact: true })).toHaveCount(1)
  await expect(page.getByRole('region', { name: 'GRPO worksheet' })).toHaveCount(0)
})

test('export a run, then import it: the same metrics and traces are shown, and it overlays', async ({ page }) => {
  await openLab(page, echoLink({ max_steps: 4 }))
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done')
  const exported = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export run' }).click()
  const file = await (await exported).path()
  const json = JSON.parse(readFileSync(file, 'utf8'))
  expect(json.format).toBe('grpo-lab/run')
  expect(json.metrics).toHaveLength(4)
  expect(json.traces).toHaveLength(4)
  const csv = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export metrics CSV' }).click()
  expect(readFileSync(await (await csv).path(), 'utf8').split('\n')[0]).toContain('reward')
  const model = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export model' }).click()
  expect((await model).suggestedFilename()).toMatch(/\.safetensors$/)
  const onnx = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export ONNX' }).click()
  expect((await onnx).suggestedFilename()).toMatch(/^grpo-lab-echo-step4\.onnx$/)
  const onnxBytes = readFileSync(await (await onnx).path())
  expect(onnxBytes.length).toBeGreaterThan(1000)
  // a ModelProto: ir_version (field 1) = 8, then producer_name (field 2) "grpo-lab"
  expect(onnxBytes.subarray(0, 12).toString('latin1')).toBe('\x08\x08\x12\x08grpo-lab')
  const last = await lastMetrics(page)

  await page.getByRole('button', { name: 'Reset' }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('–')
  await page.getByLabel('Import run file').setInputFiles(file)
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('4')
  expect(await lastMetrics(page)).toEqual(last)
  await expect(page.getByRole('region', { name: 'Traces' }).getByLabel('Shown trace step')).toContainText('step 4')
  await page.getByLabel('Overlay run file').setInputFiles(file)
  await expect(page.getByRole('region', { name: 'Charts' })).toContainText('dashed')

  // a corrupt file: a clear message, nothing lost
  await page.getByLabel('Import run file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"grpo-lab/run","version":1,"config":{"num_generations":1}}') })
  await expect(page.getByRole('alert')).toContainText('num_generations')
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('4')
})

test('a reload mid-run finds the run and resumes from its last checkpoint', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(12)
  await page.reload()
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  const saved = await shownStep(page)
  expect(saved).toBeGreaterThanOrEqual(10)
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(saved))
  const resume = page.getByRole('button', { name: /Resume from step/ })
  await expect(resume).toBeVisible()
  const from = Number((await resume.textContent())!.replace(/\D+/g, ''))
  expect(from % 5).toBe(0)
  await resume.click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(saved)
  await expect(page.getByLabel('Run state')).toHaveText('running')
})

test('a reload of a paused run keeps every step and resumes exactly where it paused', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(7)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const at = await shownStep(page)
  const before = await lastMetrics(page)
  await page.reload()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(at))
  expect(await lastMetrics(page)).toEqual(before)
  await expect(page.getByRole('region', { name: 'Traces' }).getByLabel('Shown trace step')).toContainText(`step ${at}`)
  await page.getByRole('button', { name: `Resume from step ${at}` }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(at)
})

test('the worksheet fills GRPO’s formulas with a live group and with typed numbers', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  const sheet = page.getByRole('region', { name: 'GRPO worksheet' })
  await expect(sheet.getByLabel('Worksheet source')).toHaveValue('0')
  await expect(sheet.getByRole('table', { name: 'Worksheet per completion' }).locator('tbody tr')).toHaveCount(8)
  await expect(sheet.getByLabel('Why the loss reads 0')).toContainText('gradient is not 0')
  await expect(sheet.locator('.katex').first()).toBeVisible()
  await sheet.getByLabel('Worksheet source').selectOption('typed')
  await expect(sheet.getByRole('table', { name: 'Worksheet per completion' }).locator('tbody tr')).toHaveCount(4)
  await sheet.getByLabel('Worksheet numbers').fill('{"groups":[{"rewards":[1],"completions":[{"logp":[-1]}]}]}')
  await expect(sheet.getByRole('alert')).toContainText('needs at least 2 values')
})

test('a base model that cannot be loaded is named, and fresh weights are offered', async ({ page }) => {
  await openLab(page, echoLink({ base_model: 'no-such-model' }))
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByRole('alert')).toContainText('models/no-such-model.safetensors')
  await page.getByRole('button', { name: 'Train from fresh weights' }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('')
})

test('Pretrain base model: a progress bar, then runs start from the pretrained model, also after a reload', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByLabel('Pretrain steps').fill('40')
  await page.getByRole('button', { name: 'Pretrain base model' }).click()
  await expect(page.getByRole('progressbar', { name: /Pretraining the echo base model/ })).toBeVisible()
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)', { timeout: 60_000 })
  await expect(page.getByRole('region', { name: 'Base model' }).getByRole('status')).toContainText('40 steps')
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('echo')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await expect(page.getByRole('alert')).toHaveCount(0)
  await page.getByRole('button', { name: 'Reset' }).click()
  await page.goto('/' + echoLink({ base_model: 'echo' }))
  await expect(page.getByLabel('Starts from')).toHaveText('echo (pretrained in this browser)')
})

test('the browser keeps the last 10 runs', async ({ page }) => {
  await openLab(page, echoLink({ max_steps: 1 }))
  for (let i = 0; i < 12; i++) {
    await page.getByRole('button', { name: 'Start', exact: true }).click()
    await expect(page.getByLabel('Run state')).toHaveText('done')
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  }
  await expect.poll(() => page.evaluate(() => new Promise<number>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const count = req.result.transaction('runs').objectStore('runs').count()
      count.onsuccess = () => { resolve(count.result); req.result.close() }
    }
    req.onerror = () => reject(req.error)
  }))).toBe(10)
})
