/// <reference lib="webworker" />
// The training worker: owns the backend, the model and the GRPO trainer, so the page never
// freezes (also while a base model loads or an evaluation runs). It streams each step's
// metrics and trace, a snapshot every few steps (for resume after a reload or a lost GPU
// device), and progress.
import { type Backend, DeviceLostError } from '../engine/backend'
import { type BackendPreference, createBrowserBackend } from '../engine/browser'
import { createBrowserFastCpuBackend } from '../engine/cpu/fastCpuBrowser'
import type { WebGPUBackend } from '../engine/webgpu/webgpuBackend'
import { type Checkpoint, checkpointOf, saveSafetensors } from '../model/checkpoint'
import { checkpointFromBytes, checkpointFromHfFiles } from '../model/hfFolder'
import { exportGptOnnx } from '../export/onnx'
import { hfFolderZip } from '../export/hf'
import { trlProjectZip } from '../export/trlProject'
import { GPT } from '../model/gpt'
import { CharTokenizer } from '../model/tokenizer'
import { resolveRunConfig } from '../rl/config'
import { GRPOTrainer } from '../rl/trainer'
import { DEFAULT_PRETRAIN, pretrain } from './pretrain'
import { taskFor } from '../tasks/registry'
import { completionLogprobs } from './groupLogprobs'
import { readCapped } from './modelSource'
import { type Activity, type FromWorker, SNAPSHOT_EVERY, type ToWorker } from './protocol'

const scope = self as unknown as DedicatedWorkerGlobalScope
const post = (m: FromWorker, transfer: Transferable[] = []) => scope.postMessage(m, transfer)

// null after a lost GPU device, until the next run or pretraining acquires a new one
let backend: Backend | null = null
let wantedBackend: BackendPreference = 'webgpu'
// what the backend is busy with, for the message when its device is lost
let activity: Activity = 'training'
let grpo: GRPOTrainer | null = null
// 'pausing': Pause was asked while a step is in flight; it becomes 'paused' once the step lands,
// so the page never sees a step arrive after it shows "paused".
let state: 'idle' | 'running' | 'pausing' | 'paused' | 'done' = 'idle'
let looping = false
let delayMs = 0
// bumped by every start and stop: a step that lands for an older run is dropped
let generation = 0
// work that must not interleave with a step in flight (export, worksheet log-probs) waits here
const betweenSteps: (() => Promise<void>)[] = []

function setState(s: Exclude<typeof state, 'pausing'>): void { state = s; post({ type: 'state', state: s }) }

function stopAll(): void {
  generation++
  const old = grpo
  grpo = null
  // a step in flight still uses the old trainer: free it once that step has landed
  if (old) void whenBetweenSteps(async () => old.destroy())
}

async function whenBetweenSteps(job: () => Promise<void>): Promise<void> {
  if (looping) betweenSteps.push(job)
  else await job()
}

async function runQueued(): Promise<void> {
  while (betweenSteps.length) {
    try { await betweenSteps.shift()!() } catch (err) { post({ type: 'error', message: (err as Error).message }) }
  }
}

/** Run `work` as `what`: a device lost meanwhile is reported as lost during `what`, even when the
 *  failing op's error reaches the message loop before device.lost resolves. */
async function during<T>(what: Activity, work: () => Promise<T>): Promise<T> {
  activity = what
  try {
    const result = await work()
    activity = 'training'
    return result
  } catch (e) {
    if (!(e instanceof DeviceLostError)) activity = 'training'
    throw e
  }
}

async function sendSnapshot(t: GRPOTrainer): Promise<void> {
  const snapshot = await t.snapshot()
  post({ type: 'snapshot', snapshot }, [snapshot.params.buffer, snapshot.adamM.buffer, snapshot.adamV.buffer])
}

async function evaluate(t: GRPOTrainer): Promise<void> {
  post({ type: 'progress', task: 'eval', label: `Evaluating on ${t.config.eval_problems} held-out problems`, fraction: null })
  try {
    post({ type: 'eval', step: t.step, metrics: await during('evaluation', () => t.evaluate()) })
  } finally {
    post({ type: 'progress', task: 'eval', label: '', fraction: 1, done: true })
  }
}

async function grpoStep(): Promise<void> {
  const t = grpo
  if (!t) return
  if (t.step >= t.config.max_steps) { setState('done'); return } // e.g. a finished run resumed
  const mine = generation
  let result: Awaited<ReturnType<GRPOTrainer['trainStep']>>
  try {
    result = await t.trainStep()
  } catch (e) {
    if (mine !== generation) return // reset or restarted meanwhile: the old run's fate is moot
    throw e
  }
  if (mine !== generation) return
  const { metrics, trace } = result
  post({ type: 'grpo-step', metrics, trace })
  if (t.config.eval_every > 0 && t.step % t.config.eval_every === 0) await evaluate(t)
  const finished = t.step >= t.config.max_steps
  if (t.step % SNAPSHOT_EVERY === 0 || finished) await sendSnapshot(t)
  if (finished && mine === generation) setState('done')
}

/** the GRPO loop under way: resolves once it has stopped (looping false again) */
let loopEnd: Promise<void> = Promise.resolve()
function loop(): Promise<void> {
  if (!looping) loopEnd = runLoop()
  return loopEnd
}

async function runLoop(): Promise<void> {
  looping = true
  try {
    for (;;) {
      while (state === 'running') {
        await grpoStep()
        await runQueued()
        // the speed control, and a moment for pause/stop messages to come in
        await new Promise((r) => setTimeout(r, delayMs))
      }
      if (state !== 'pausing') break
      if (grpo) await sendSnapshot(grpo) // before 'paused', so that Step never meets it mid-way
      if (state === 'pausing') { setState('paused'); break } // else Resume came in meanwhile: go on
    }
  } catch (err) {
    if (err instanceof DeviceLostError) deviceLost(err)
    else {
      setState('idle')
      post({ type: 'error', message: `training stopped: ${(err as Error).message}` })
    }
  } finally {
    looping = false
    await runQueued()
  }
}

/** The backend, or a new one after a lost device (the page is told its adapter again). */
let acquiring: Promise<Backend> | null = null
async function acquireBackend(): Promise<Backend> {
  if (backend) return backend
  // two messages right after a loss (Resume, then Pretrain) must share one new device
  acquiring ??= newBackend().finally(() => { acquiring = null })
  return acquiring
}

async function newBackend(): Promise<Backend> {
  const choice = await createBrowserBackend(wantedBackend, createBrowserFastCpuBackend)
  backend = choice.backend
  if (backend.kind === 'webgpu') {
    const be = backend
    void (be as WebGPUBackend).lost.then((err) => { if (backend === be) deviceLost(err) })
  }
  post({ type: 'ready', adapter: backend.describe(), fallbackReason: choice.fallbackReason })
  return backend
}

/** A lost GPU device (driver reset, GPUDevice.destroy(), a tab in the background too long),
 *  seen either by device.lost or by an op that failed on it, whichever comes first. Its buffers
 *  are gone: drop the backend and the trainer. The page keeps every step it was shown and
 *  offers Resume, which starts on a new device from the last snapshot. */
function deviceLost(err: DeviceLostError): void {
  if (!backend) return // told already
  backend = null
  stopAll()
  setState('idle')
  post({ type: 'device-lost', message: err.message, during: activity })
  activity = 'training'
}

let pretrainCancelled = false

/** Pretrain a base model for the config's task and shape: a progress bar with the loss. */
async function runPretrain(msg: Extract<ToWorker, { type: 'pretrain' }>): Promise<void> {
  if (looping || state === 'running') throw new Error('pause or reset the GRPO run before pretraining')
  const be = await acquireBackend()
  const config = resolveRunConfig(msg.config)
  const steps = Math.max(1, Math.min(100_000, Math.floor(msg.steps)))
  pretrainCancelled = false
  const label = (s: number, loss?: number) => `Pretraining the ${config.task} base model: step ${s} of ${steps}${loss === undefined ? '' : `, loss ${loss.toFixed(3)}`}`
  post({ type: 'progress', task: 'pretrain', label: label(0), fraction: 0 })
  try {
    const r = await during('pretraining', () => pretrain(be, taskFor(config), {
      ...DEFAULT_PRETRAIN, seed: config.seed, steps, nLayer: config.n_layer, nHead: config.n_head, nEmbd: config.n_embd, blockSize: config.block_size,
    }, async (p) => {
      if (pretrainCancelled) throw new Error('pretraining cancelled')
      if (p.step % 5 === 0 || p.step === p.steps) post({ type: 'progress', task: 'pretrain', label: label(p.step, p.loss), fraction: p.step / p.steps })
      // let Cancel come in: the worker's message loop runs between awaits
      if (p.step % 5 === 0) await new Promise((res) => setTimeout(res, 0))
    }))
    const bytes = saveSafetensors(await checkpointOf(r.model, r.tokenizer, { task: config.task, pretrain_steps: String(steps), seed: String(config.seed) }))
    r.model.destroy()
    post({ type: 'pretrained', name: config.task, bytes, loss: r.finalLoss, steps }, [bytes.buffer])
  } finally {
    post({ type: 'progress', task: 'pretrain', label: '', fraction: 1, done: true })
  }
}

/** Step: one GRPO step while paused. */
async function stepOnce(): Promise<void> {
  if (state !== 'paused' || looping) return
  looping = true
  try {
    await grpoStep()
    if (grpo && state === 'paused') await sendSnapshot(grpo)
  } finally { looping = false; await runQueued() }
}

/** Fetch a checkpoint the page cleared (its own origin, or one the visitor allowed), capped in
 *  size, with a progress bar from the response's Content-Length: a .safetensors or a .zip of a
 *  Hugging Face folder, or (a URL ending in '/') the folder's config.json, tokenizer.json and model.safetensors. */
async function fetchBaseModel(url: string): Promise<Checkpoint> {
  const label = `Loading base model ${url}`
  post({ type: 'progress', task: 'model', label, fraction: 0 })
  let file = url
  const get = async (at: string, what: string, onProgress: (f: number | null) => void = () => {}) => {
    file = at
    const res = await fetch(at)
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim())
    const bytes = await readCapped(res, onProgress)
    // a dev server answers a missing file with the page itself: say so rather than "bad header"
    if (bytes.length > 0 && bytes[0] === 0x3c) throw new Error(`the server answered with an HTML page, not ${what}`)
    return bytes
  }
  const progress = (fraction: number | null) => post({ type: 'progress', task: 'model', label, fraction })
  try {
    if (!url.endsWith('/')) return checkpointFromBytes(await get(url, 'a safetensors file', progress))
    const files = new Map<string, Uint8Array>()
    for (const name of ['config.json', 'tokenizer.json']) files.set(name, await get(url + name, name))
    files.set('model.safetensors', await get(url + 'model.safetensors', 'a safetensors file', progress))
    file = url
    return checkpointFromHfFiles(files)
  } catch (e) {
    throw Object.assign(new Error((e as Error).message), { file })
  } finally {
    post({ type: 'progress', task: 'model', label, fraction: 1, done: true })
  }
}

/** The run as a TRL project: the model it starts from (or the live one), the config, a .zip. */
async function exportTrl(msg: Extract<ToWorker, { type: 'export-trl' }>): Promise<void> {
  let config = resolveRunConfig(msg.config)
  let start: { ck: Checkpoint; from: string }
  if (msg.current) {
    start = await new Promise((resolve, reject) => void whenBetweenSteps(async () => {
      if (!grpo) { reject(new Error('there is no live run to take the current model from: start or resume it, or export from its base model')); return }
      config = grpo.config
      const ck = await checkpointOf(grpo.model, grpo.tokenizer, { task: config.task, step: String(grpo.step), seed: String(config.seed) })
      resolve({ ck, from: `the lab's run at step ${grpo.step}` })
    }).catch(reject))
  } else if (config.base_model) {
    if (!msg.baseBytes && !msg.modelUrl) throw new Error('the page did not clear this base model for download')
    start = { ck: msg.baseBytes ? checkpointFromBytes(msg.baseBytes) : await fetchBaseModel(msg.modelUrl!), from: `base model ${config.base_model}` }
  } else {
    // fresh weights, as GRPOTrainer.create makes them for the seed
    const be = await acquireBackend()
    const tokenizer = new CharTokenizer(taskFor(config).alphabet)
    const gpt = new GPT(be, { vocabSize: tokenizer.vocabSize, blockSize: config.block_size, nLayer: config.n_layer, nHead: config.n_head, nEmbd: config.n_embd })
    try {
      gpt.initialize(config.seed)
      start = { ck: await checkpointOf(gpt, tokenizer, { task: config.task, step: '0', seed: String(config.seed) }), from: `fresh weights of seed ${config.seed}` }
    } finally { gpt.destroy() }
  }
  const folder = `grpo-lab-${config.task}-seed${config.seed}-trl`
  const { bytes } = trlProjectZip(config, start.ck, folder, start.from)
  post({ type: 'model', bytes, name: `${folder}.zip` }, [bytes.buffer])
}

async function startRun(msg: Extract<ToWorker, { type: 'start-grpo' }>): Promise<void> {
  stopAll()
  const mine = generation
  const be = await acquireBackend()
  const config = resolveRunConfig(msg.config)
  let base: Checkpoint | undefined
  if (config.base_model) {
    try {
      if (!msg.baseBytes && !msg.modelUrl) throw new Error('the page did not clear this base model for download')
      base = msg.baseBytes ? checkpointFromBytes(msg.baseBytes) : await fetchBaseModel(msg.modelUrl!)
    } catch (e) {
      const from = msg.baseBytes ? `'${config.base_model}' pretrained in this browser` : (e as { file?: string }).file ?? config.base_model
      post({ type: 'base-model-error', file: from, message: (e as Error).message })
      setState('idle')
      return
    }
  }
  if (mine !== generation || be !== backend) return // stopped, or its device lost, meanwhile
  post({ type: 'progress', task: 'create', label: 'Building the model', fraction: null })
  try {
    grpo = GRPOTrainer.create(be, config, taskFor(config), base)
    if (msg.resume) grpo.restore(msg.resume)
    grpo.onColdStartProgress = (done, total, loss) => {
      const label = done < total ? `Cold start: supervised step ${done} of ${total}, loss ${loss.toFixed(3)}` : ''
      if (done % 5 === 0 || done === total) post({ type: 'progress', task: 'cold-start', label, fraction: done / total, done: done === total })
    }
  } catch (e) {
    setState('idle')
    throw e
  } finally {
    post({ type: 'progress', task: 'create', label: '', fraction: 1, done: true })
  }
  if (msg.paused) {
    setState('paused')
    // the run this one replaced may still be winding down its loop (a Start, then at once a
    // lesson's Step): its first step waits for that loop to end, rather than being dropped as "looping"
    if (msg.stepOnce) {
      await loopEnd
      if (mine === generation) await stepOnce()
    }
    return
  }
  setState('running')
  void loop()
}

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const msg = e.data
  try {
    switch (msg.type) {
      case 'init': wantedBackend = msg.backend; await acquireBackend(); break
      case 'start-grpo': await startRun(msg); break
      case 'pretrain': await runPretrain(msg); break
      case 'cancel-pretrain': pretrainCancelled = true; break
      case 'pause': if (state === 'running') { state = 'pausing'; if (!looping) setState('paused') } break
      case 'resume':
        if (state === 'pausing') state = 'running' // the step in flight simply goes on
        else if (state === 'paused') { setState('running'); void loop() }
        break
      case 'step': {
        // a Step pressed while the previous one is still finishing (its snapshot) waits for it rather
        // than being lost (a lesson presses Step n times); never onto a run started after it
        const mine = generation
        await whenBetweenSteps(async () => { if (mine === generation) await stepOnce() })
        break
      }
      case 'stop': stopAll(); setState('idle'); break
      case 'speed': delayMs = Math.max(0, Math.min(10_000, msg.delayMs)); break
      case 'export-model':
        await whenBetweenSteps(async () => {
          if (!grpo) throw new Error('there is no model to export yet: start a run first')
          const metadata = { task: grpo.config.task, step: String(grpo.step) }
          const name = `grpo-lab-${grpo.config.task}-step${grpo.step}`
          const config = grpo.config
          const bytes = msg.format === 'onnx'
            ? await exportGptOnnx(grpo.model, { kvCache: true, tokenizer: grpo.tokenizer, metadata })
            : msg.format === 'hf'
              ? hfFolderZip(await checkpointOf(grpo.model, grpo.tokenizer, { ...metadata, seed: String(config.seed) }), name, {
                runConfig: { ...config }, baseModel: config.base_model || undefined, heldOut: msg.heldOut,
              })
              : saveSafetensors(await checkpointOf(grpo.model, grpo.tokenizer, metadata))
          const ext = msg.format === 'onnx' ? 'onnx' : msg.format === 'hf' ? 'zip' : 'safetensors'
          post({ type: 'model', bytes, name: `${name}${msg.format === 'hf' ? '-hf' : ''}.${ext}` }, [bytes.buffer])
        })
        break
      case 'export-trl': await exportTrl(msg); break
      case 'group-logp':
        await whenBetweenSteps(async () => {
          // a request can outlive its run (Reset while it waited): the worksheet alone hears of it
          if (!grpo) {
            post({ type: 'group-logp-error', requestId: msg.requestId, message: 'the worksheet needs a live run for log-probs: start or resume the run' })
            return
          }
          const logp = await completionLogprobs(grpo.model, grpo.tokenizer, msg.prompt, msg.completions, grpo.config.temperature)
          post({ type: 'group-logp', requestId: msg.requestId, logp })
        })
        break
      case 'debug-lose-device':
        if (backend?.kind !== 'webgpu') throw new Error('there is no GPU device to lose: this run is on the CPU backend')
        ;(backend as WebGPUBackend).device.destroy()
        break
    }
  } catch (err) {
    if (err instanceof DeviceLostError) deviceLost(err)
    else post({ type: 'error', message: (err as Error).message })
  }
}
