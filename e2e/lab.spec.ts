// The lab page as a person uses it: start a run and watch it, Pause / Step / Reset, share links
// (good, malformed, lesson), export and import, a reload mid-run, the worksheet, a missing base
// model, Reset during a step. Small echo configurations keep each test to seconds on SwiftShader.
// Every test says which backend it expects (openLab / expectBackend): a silent CPU fallback fails.
import { expect, type Page, test } from '@playwright/test'
import * as ort from 'onnxruntime-web'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { uniform } from '../src/engine/rng'
import { ECHO_VALUES } from '../src/lab/presets'
import { SNAPSHOT_EVERY } from '../src/lab/protocol'
import { loadInto, loadSafetensors, tensorsFromFlat } from '../src/model/checkpoint'
import { GPT } from '../src/model/gpt'
import { paramLayout } from '../src/model/params'
import { CharTokenizer } from '../src/model/tokenizer'
import { resolveRunConfig } from '../src/rl/config'
import { GRPOTrainer } from '../src/rl/trainer'
import { getTask } from '../src/tasks/registry'
import {
  download, echoLink, expectBackend, exportedRun, lastMetrics, openLab, runId, savedSnapshotStep, savedSteps, shownStep, startAndFinish, TRAINING_LIMIT, withoutTiming,
} from './helpers'

test('the default page (R1-Zero addition) starts: a step lands with charts and traces', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, '')
  await expect(page.getByLabel('Preset', { exact: true })).toHaveValue('addition')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  // the shipped base model (public/models/addition.safetensors) loads: no problem reported
  await expect(page.getByRole('alert')).toHaveCount(0)
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(1)
  await expect(page.getByRole('img', { name: 'Reward chart' })).not.toHaveAttribute('data-points', '0')
  const group = page.getByRole('region', { name: 'Traces' }).getByRole('group', { name: 'Group 1' })
  await expect(group).toContainText('<think>')
  await expect(group.locator('tbody tr')).toHaveCount(8)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused', { timeout: TRAINING_LIMIT })
})

test('the echo demo runs: steps advance, charts and traces fill', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(5)
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

test('evaluation on held-out problems every few steps: the metrics Node computes, and the last one shown', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  const values = { ...ECHO_VALUES, eval_every: 2, eval_problems: 16, max_steps: 6 }
  await openLab(page, echoLink(values), '?backend=reference') // the reference CPU backend: Node's numbers to the bit
  await startAndFinish(page, 6)
  const run = await exportedRun(page)
  const trainer = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig(values), getTask('echo'))
  const node = []
  for (let s = 1; s <= 6; s++) {
    await trainer.trainStep()
    if (s % 2 === 0) node.push({ step: s, metrics: await trainer.evaluate() })
  }
  // as the run file holds them: a metric of an empty set (accuracy/verified with none verified) is NaN, JSON's null
  expect(run.evals).toEqual(JSON.parse(JSON.stringify(node)))
  await expect(page.getByLabel('Eval accuracy')).toHaveText(`${(node[2].metrics['eval/accuracy'] * 100).toFixed(1)}%`)
})

/** The worker's own step count: Export model names the file after the trainer's step. */
async function workerStep(page: Page): Promise<number> {
  const { name } = await download(page, 'Export model')
  expect(name).toMatch(/^grpo-lab-echo-step\d+\.safetensors$/)
  return Number(name.replace(/\D+/g, ''))
}

test('Pause stops the steps, Step advances exactly one, Reset clears the run', async ({ page }) => {
  await openLab(page, echoLink())
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  // the worker says 'paused' only once its step in flight has landed: its trainer is where the page is
  const at = await shownStep(page)
  expect(await workerStep(page)).toBe(at)
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(at + 1))
  expect(await workerStep(page)).toBe(at + 1)
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  await expect(page.getByLabel('Step', { exact: true })).toHaveText(String(at + 1))
  await page.getByRole('button', { name: 'Resume' }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThan(at + 1)
  await page.getByRole('button', { name: 'Reset' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('idle')
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('–')
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', '0')
  await page.getByRole('button', { name: 'Export model' }).click()
  await expect(page.getByRole('alert')).toContainText('There is no trained model here yet')
})

test('Reset during a step: the step in flight is dropped, and the next run starts afresh', async ({ page }) => {
  // reference CPU backend: the next run's first step must equal a fresh trainer's in Node, bit for bit
  await openLab(page, echoLink(), '?backend=reference')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(2)
  const old = await runId(page)
  // at full speed the worker is in a step almost all the time; the Reset lands in one
  await page.getByRole('button', { name: 'Reset' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('idle')
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('–')
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', '0')
  await page.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('1')
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  expect(await runId(page)).not.toBe(old)
  const fresh = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig(ECHO_VALUES), getTask('echo'))
  expect(withoutTiming(await lastMetrics(page))).toEqual(withoutTiming((await fresh.trainStep()).metrics))
  expect((await exportedRun(page)).metrics.map((m) => m.step)).toEqual([1])
  // nothing of the reset run is kept, not even the step that landed after the Reset
  await expect.poll(() => savedSteps(page, old)).toEqual([])
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
  await expectBackend(other, 'webgpu')
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
  await openLab(page, '#v=1&num_generations=1&loss_type=ppo&task=%3Cimg%20src%3Dx%20onerror%3D%22window.pwned%3D1%22%3E&beta=0.04&bogus_hide=1')
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

/** Record in the page when each step count is first shown (window.shownAt[step] = ms). */
async function recordStepTimes(page: Page): Promise<void> {
  await page.evaluate(() => {
    const shownAt: number[] = []
    Object.assign(window, { shownAt })
    const el = document.querySelector('[aria-label="Step"]')!
    new MutationObserver(() => { shownAt[Number(el.textContent)] ??= performance.now() }).observe(el, { childList: true, characterData: true, subtree: true })
  })
}

test('the speed control spaces the steps out', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink())
  await recordStepTimes(page)
  await page.getByLabel('Speed').selectOption({ label: '1 step / 3 seconds' })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(2)
  await page.getByLabel('Speed').selectOption({ label: 'Full speed' })
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(12)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const shownAt = await page.evaluate(() => (window as unknown as { shownAt: (number | null)[] }).shownAt)
  const computeMs = (await exportedRun(page)).metrics.map((m) => m.step_time * 1000) // computeMs[s - 1]: step s
  // time between two shown steps that the steps' own computing does not account for
  const idleMs = (a: number, b: number) => shownAt[b]! - shownAt[a]! - computeMs.slice(a, b).reduce((x, y) => x + y, 0)
  // at 1 step / 3 seconds: the wait between steps 1 and 2 is the delay (less the page's 150 ms batching)
  expect(idleMs(1, 2)).toBeGreaterThanOrEqual(2700)
  // at full speed: two shown counts at least 5 steps apart, past the delay that was under way,
  // spent less idle time than one 3-second delay per step would take (a lower bound, so load cannot fail it)
  const a = shownAt.findIndex((t, s) => s >= 4 && t)
  const b = shownAt.findIndex((t, s) => s >= a + 5 && t)
  expect(a).toBeGreaterThan(0)
  expect(b).toBeGreaterThan(a)
  expect(idleMs(a, b)).toBeLessThan(1000 * (b - a))
})

test('a lesson link hides the chosen controls and starts the run', async ({ page }) => {
  await page.goto('/' + echoLink({}, ['beta', 'worksheet'], true))
  await expectBackend(page, 'webgpu')
  await expect.poll(() => shownStep(page)).toBeGreaterThan(0)
  await expect(page.getByLabel('beta', { exact: true })).toHaveCount(0)
  await expect(page.getByLabel('epsilon', { exact: true })).toHaveCount(1)
  await expect(page.getByRole('region', { name: 'GRPO worksheet' })).toHaveCount(0)
})

/** The engine's logits [B, T, V] (CPU backend) for equal-length token rows. */
async function engineLogits(model: GPT, tokens: number[][]): Promise<Float32Array> {
  const a = model.activations(tokens.length, tokens[0].length)
  model.backend.write(a.tokens, tokens.flat())
  model.backend.write(a.targets, new Array(tokens.flat().length).fill(0))
  return Float32Array.from(await model.backend.read(model.forward(tokens.length, tokens[0].length).logits))
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** The values a uPlot legend shows for each series with the cursor at the chart's left or right end. */
async function legendAt(page: Page, chart: string, end: 'first' | 'last'): Promise<Record<string, string>> {
  const box = page.getByRole('img', { name: chart })
  const over = box.locator('.u-over')
  const r = (await over.boundingBox())!
  await page.mouse.move(end === 'first' ? r.x + 1 : r.x + r.width - 1, r.y + r.height / 2)
  const rows = box.locator('.u-legend .u-series')
  const out: Record<string, string> = {}
  for (let i = 1; i < await rows.count(); i++) out[(await rows.nth(i).locator('.u-label').textContent())!] = (await rows.nth(i).locator('.u-value').textContent())!
  return out
}

test('export a run, then import it: the same metrics and traces are shown, and it is compared', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink({ max_steps: 4 }))
  await startAndFinish(page, 4)
  const { name: runName, bytes: runBytes } = await download(page, 'Export run')
  expect(runName).toBe('grpo-lab-echo-grpo-seed1.json')
  const json = JSON.parse(runBytes.toString('utf8'))
  expect(json.format).toBe('grpo-lab/run')
  expect(json.metrics.map((m: { step: number }) => m.step)).toEqual([1, 2, 3, 4])
  expect(json.traces.map((t: { step: number }) => t.step)).toEqual([1, 2, 3, 4])
  const last = await lastMetrics(page)
  expect(json.metrics[3]).toEqual(JSON.parse(JSON.stringify(last)))

  // CSV: a column per metric, a row per step, each cell the run's value
  const csv = (await download(page, 'Export metrics CSV')).bytes.toString('utf8').trimEnd().split(/\r?\n/).map((l) => l.split(','))
  const columns = Object.keys(json.metrics[0])
  expect(columns).toEqual(expect.arrayContaining(['step', 'reward', 'accuracy', 'reward_std', 'entropy', 'grad_norm', 'learning_rate', 'loss']))
  expect(csv[0]).toEqual(columns)
  expect(csv.slice(1)).toEqual(json.metrics.map((m: Record<string, number | null>) => columns.map((k) => (m[k] === null ? '' : String(m[k])))))

  // the model as safetensors, read by the lab's own reader: the run's shape, trained weights
  const model = await download(page, 'Export model')
  expect(model.name).toBe('grpo-lab-echo-step4.safetensors')
  const headerLength = Number(model.bytes.readBigUInt64LE(0))
  const header = JSON.parse(model.bytes.subarray(8, 8 + headerLength).toString('utf8'))
  const ck = loadSafetensors(new Uint8Array(model.bytes))
  const vocab = ck.tokenizer.vocabSize
  expect(ck.config).toEqual({ vocabSize: vocab, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 32 })
  expect(ck.tokenizer.toJSON()).toEqual(new CharTokenizer(getTask('echo').alphabet).toJSON())
  expect(ck.metadata).toMatchObject({ task: 'echo', step: '4' })
  const layout = paramLayout(ck.config, 1)
  expect(Object.keys(header).filter((k) => k !== '__metadata__').sort()).toEqual(layout.specs.map((t) => t.name).sort())
  for (const t of layout.specs) expect(header[t.name].shape, t.name).toEqual(t.shape)
  const engine = new GPT(new CpuBackend('f32'), ck.config)
  engine.initialize(1) // the run's seed: four steps of training moved the weights away from it
  const initial = tensorsFromFlat(ck.config, 1, await engine.readFlat())
  expect(Math.max(...layout.specs.map((t) => maxAbsDiff(ck.tensors.get(t.name)!, initial.get(t.name)!)))).toBeGreaterThan(1e-4)
  loadInto(engine, ck)

  // the same model as ONNX (exported from WebGPU's padded layout), run by onnxruntime-web: the engine's logits
  const onnx = await download(page, 'Export ONNX')
  expect(onnx.name).toBe('grpo-lab-echo-step4.onnx')
  ort.env.wasm.numThreads = 1
  const session = await ort.InferenceSession.create(new Uint8Array(onnx.bytes), { executionProviders: ['wasm'] })
  const T = ck.config.blockSize
  const tokens = [0, 1].map((b) => Array.from({ length: T }, (_, t) => Math.floor(uniform(7, b, t, 0) * vocab)))
  const expected = await engineLogits(engine, tokens)
  const ids = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length])
  const headDim = ck.config.nEmbd / ck.config.nHead
  const empty = new ort.Tensor('float32', new Float32Array(0), [2, ck.config.nHead, 0, headDim])
  // Optimum's decoder layout: a prefill of T - 1 positions from empty pasts, then the last token from the cache
  const feeds = (at: number, n: number, key: unknown, value: unknown) => ({
    input_ids: ids(tokens.map((r) => r.slice(at, at + n))),
    attention_mask: ids(tokens.map(() => new Array(at + n).fill(1))),
    position_ids: ids(tokens.map(() => Array.from({ length: n }, (_, i) => at + i))),
    'past_key_values.0.key': key as InstanceType<typeof ort.Tensor>, 'past_key_values.0.value': value as InstanceType<typeof ort.Tensor>,
  })
  const prefill = await session.run(feeds(0, T - 1, empty, empty))
  expect(prefill.logits.dims).toEqual([2, T - 1, vocab])
  const next = await session.run(feeds(T - 1, 1, prefill['present.0.key'], prefill['present.0.value']))
  expect(next.logits.dims).toEqual([2, 1, vocab])
  const got = new Float32Array(2 * T * vocab)
  for (let b = 0; b < 2; b++) {
    got.set((prefill.logits.data as Float32Array).subarray(b * (T - 1) * vocab, (b + 1) * (T - 1) * vocab), b * T * vocab)
    got.set((next.logits.data as Float32Array).subarray(b * vocab, (b + 1) * vocab), (b * T + T - 1) * vocab)
  }
  expect(Math.max(...Array.from(expected, Math.abs))).toBeGreaterThan(0.1) // real logits, not zeros
  expect(maxAbsDiff(got, expected)).toBeLessThanOrEqual(1e-4)
  await session.release()

  await page.getByRole('button', { name: 'Reset' }).click()
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('–')
  await page.getByLabel('Import run file').setInputFiles({ name: runName, mimeType: 'application/json', buffer: runBytes })
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('4')
  expect(await lastMetrics(page)).toEqual(last)
  await expect(page.getByRole('region', { name: 'Traces' }).getByLabel('Shown trace step')).toContainText('step 4')

  // a compared run with other rewards: its series in a colour of its own, named by its change
  // from the shown run (the baseline), holding the compared run's values
  const other = { ...json, name: 'other run', metrics: json.metrics.map((m: Record<string, number>, i: number) => ({ ...m, reward: [0.25, 0.5, 0.75, 1.25][i] })) }
  await page.getByLabel('Compare run file').setInputFiles({ name: 'other.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(other)) })
  const chart = page.getByRole('img', { name: 'Reward chart' })
  await expect(chart).toHaveAttribute('data-series', /other run/)
  const series = JSON.parse((await chart.getAttribute('data-series'))!) as { label: string; color: string; dash?: number[] }[]
  const mine = series.find((x) => x.label === 'reward (baseline)')!
  const theirs = series.find((x) => x.label === 'reward (same config: other run)')!
  expect(mine.dash).toBeUndefined()
  expect(theirs.dash).toBeUndefined() // each run's first series is solid; its colour tells the runs apart
  expect(theirs.color).not.toBe(mine.color)
  const shown = (v: number) => (Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3))
  // the legend numbers the runs as the list above the charts does: 1 the baseline, 2 the compared run
  expect(await legendAt(page, 'Reward chart', 'first')).toMatchObject({ 'reward · 2': '0.250', 'reward · 1': shown(json.metrics[0].reward) })
  expect(await legendAt(page, 'Reward chart', 'last')).toMatchObject({ 'reward · 2': '1.250', 'reward · 1': shown(json.metrics[3].reward) })

  // a corrupt file: a clear message, nothing lost
  await page.getByLabel('Import run file').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"grpo-lab/run","version":1,"config":{"num_generations":1}}') })
  await expect(page.getByRole('alert')).toContainText('num_generations')
  await expect(page.getByLabel('Step', { exact: true })).toHaveText('4')
})

test('a reload mid-run at full speed finds the run and resumes from its last checkpoint, with no step lost', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  // enough steps that the fast CPU backend (a few ms a step) is still running at the reload
  await openLab(page, echoLink({ max_steps: 5000 }), '?backend=cpu')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(12)
  // a snapshot stored (a step takes a few ms here: a reload could else beat the first one to IndexedDB)
  const id = await runId(page)
  await expect.poll(() => savedSnapshotStep(page, id), { timeout: TRAINING_LIMIT }).toBeGreaterThan(0)
  await page.reload() // steps land every few ms: some are still on their way to IndexedDB
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  const resume = page.getByRole('button', { name: /^Resume from step \d+$/ })
  await expect(resume).toBeVisible() // the saved run is read from IndexedDB after the page is ready
  const saved = await shownStep(page)
  expect(saved).toBeGreaterThanOrEqual(SNAPSHOT_EVERY)
  await expect(page.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', String(saved))
  const from = Number((await resume.textContent())!.replace(/\D+/g, ''))
  expect(from % SNAPSHOT_EVERY).toBe(0)
  // a snapshot is saved only after the steps up to it: resuming never skips a step
  expect(from).toBeLessThanOrEqual(saved)
  await resume.click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThan(saved + 2)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const steps = (await exportedRun(page)).metrics.map((m) => m.step)
  expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1))
})

test('a reload before the first snapshot offers Resume from step 0, which recomputes the same steps', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink(), '?backend=cpu')
  await page.getByLabel('Speed').selectOption({ label: '1 step / 3 seconds' })
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  const id = await runId(page)
  // the first step stored, and no snapshot yet (the first comes at step SNAPSHOT_EVERY)
  await expect.poll(() => savedSteps(page, id), { timeout: TRAINING_LIMIT }).toContain(1)
  const first = (await exportedRun(page)).metrics[0]
  await page.reload()
  expect(await savedSnapshotStep(page, id)).toBe(0)
  const resume = page.getByRole('button', { name: 'Resume from step 0' })
  await expect(resume).toBeVisible()
  await expect(page.getByRole('status', { name: 'Saved run' })).toContainText('before its first snapshot')
  await page.getByLabel('Speed').selectOption({ label: 'Full speed' })
  await resume.click()
  await expect.poll(() => shownStep(page), { timeout: TRAINING_LIMIT }).toBeGreaterThan(SNAPSHOT_EVERY)
  await page.getByRole('button', { name: 'Pause' }).click()
  await expect(page.getByLabel('Run state')).toHaveText('paused')
  const again = (await exportedRun(page)).metrics
  expect(again.map((m) => m.step)).toEqual(Array.from({ length: again.length }, (_, i) => i + 1))
  expect(withoutTiming(again[0])).toEqual(withoutTiming(first))
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

test('the browser keeps the last 10 runs', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  await openLab(page, echoLink({ max_steps: 1 }))
  for (let i = 0; i < 12; i++) await startAndFinish(page, 1)
  await expect.poll(() => page.evaluate(() => new Promise<number>((resolve, reject) => {
    const req = indexedDB.open('grpo-lab')
    req.onsuccess = () => {
      const count = req.result.transaction('runs').objectStore('runs').count()
      count.onsuccess = () => { resolve(count.result); req.result.close() }
    }
    req.onerror = () => reject(req.error)
  }))).toBe(10)
})
