// The page's state: the configuration being edited, the run being shown (live, restored from
// IndexedDB, or imported), the runs compared with it, and the worker that trains.
// Steps arrive from the worker one by one; they are appended in batches (one React update per
// FLUSH_MS) so that fast runs never re-render the page per step. Metrics of every step stay in
// memory (the charts); traces only for the last db.TRACE_WINDOW steps once they are stored: older
// ones are read back from IndexedDB when the trace viewer browses to them.
import { create } from 'zustand'
import type { AdapterDescription } from '../engine/backend'
import { addCompared, type ComparedRun, compareWith, removeCompared } from '../lab/compare'
import { encodeLink, type LinkProblem } from '../lab/link'
import { presetById, presetOf } from '../lab/presets'
import { modelSource, type ModelSource } from '../lab/modelSource'
import type { Activity, FromWorker, ModelFormat, RunState, ToWorker } from '../lab/protocol'
import { checkpointFromBytes, checkpointFromHfFiles } from '../model/hfFolder'
import type { Lesson } from '../lessons/lesson'
import { saveSafetensors } from '../model/checkpoint'
import { shippedModel } from '../model/shipped'
import { LAB_ONLY } from '../export/trl'
import { type EvalRecord, makeRunFile, metricsCsv, parseRunFile, type RunFile } from '../lab/runFile'
import { type ConfigProblem, DEFAULT_RUN_CONFIG, resolvePartial, resolveRunConfig, type RunConfig } from '../rl/config'
import type { Metrics, TraceRecord, TrainerSnapshot } from '../rl/trainer'
import { linkState } from './linkState'
import * as db from './runDb'

export interface RunView {
  id: string
  name: string
  config: RunConfig
  metrics: Metrics[]
  /** every step's trace, except those older than the last TRACE_WINDOW that are in IndexedDB */
  traces: TraceRecord[]
  evals: EvalRecord[]
  /** replay: a recorded run played by src/store/replayStore.ts (nothing of it is in IndexedDB) */
  source: 'live' | 'saved' | 'imported' | 'replay'
}

export interface Alert {
  id: number
  text: string
  /** an offer that comes with the message */
  action?: 'fresh-weights' | 'export-run' | 'resume'
}

/** text: numbers a lesson puts into the worksheet's JSON box (absent: keep what is typed there) */
export type WorksheetSource = { kind: 'group'; index: number } | { kind: 'typed'; text?: string }

export interface Progress { label: string; fraction: number | null }

export const SPEEDS = [
  { label: 'Full speed', delayMs: 0 },
  { label: '1 step / second', delayMs: 1000 },
  { label: '1 step / 3 seconds', delayMs: 3000 },
] as const

export interface LabState {
  adapter: AdapterDescription | null
  fallbackReason: string | null
  runState: 'loading' | RunState
  /** the configuration in the controls (applies to the next Start) */
  config: RunConfig
  presetId: string | null
  /** lesson links: controls and panels to hide */
  hidden: string[]
  autostart: boolean
  /** the link's `lesson=<id>` (the lesson panel fetches and validates it) */
  lessonId: string | null
  /** the link's `replay=1`: show the recorded run rather than train live */
  replayWanted: boolean
  linkProblems: LinkProblem[]
  run: RunView | null
  /** runs kept beside the shown one on the charts and in the final-figures table, the first the
   *  baseline the others are named against (src/lab/compare.ts); the shown run is always drawn too */
  compared: ComparedRun[]
  /** a saved snapshot the shown run can resume from, when no trainer holds it */
  resumable: { step: number } | null
  progress: Record<string, Progress>
  alerts: Alert[]
  delayMs: number
  /** base models pretrained in this browser (kept in IndexedDB), by name */
  localModels: string[]
  /** those of localModels loaded from a file (a Hugging Face folder, a .zip, a .safetensors) */
  importedModels: string[]
  /** a line about the last pretraining, shown until the next one */
  pretrainNote: string | null
  /** origins the visitor allowed base models from (this page's life only) */
  allowedOrigins: string[]
  /** base models from an opened lesson file (.safetensors bytes by name, this page's life only):
   *  a run whose base_model names one starts from these bytes and fetches nothing */
  bundleModels: Record<string, Uint8Array>
  /** replays from an opened lesson file: the replay file's text by preset id (checked when the
   *  file was opened); the replay player plays these before it fetches replays/<preset id>.json */
  bundleReplays: Record<string, string>
  /** the lesson of an opened lesson file: the panel shows it, not lessons/<id>.json, while
   *  lessonId is its id */
  bundleLesson: { lesson: Lesson; text: string } | null
  connect(): void
  pretrain(steps: number): void
  cancelPretrain(): void
  send(m: ToWorker): void
  /** changes the configuration; returns what was refused (a value out of range or breaking a cross-key rule) */
  setConfig(patch: Partial<RunConfig>): ConfigProblem[]
  /** base_model '' (fresh weights); says what stops it (e.g. a block_size too small for fresh weights) */
  freshWeights(): boolean
  choosePreset(id: string): void
  start(opts?: { paused?: boolean; stepOnce?: boolean }): void
  step(): void
  pauseOrResume(): void
  reset(): void
  /** continue the shown run from its last snapshot (after a reload or a lost GPU device) */
  resumeSaved(): Promise<void>
  setSpeed(delayMs: number): void
  setHidden(hidden: string[]): void
  /** the index (into run.metrics) of the step the trace viewer shows; null follows the latest (a chart's step axis or a lesson moves it) */
  traceIndex: number | null
  setTraceIndex(index: number | null): void
  /** what the worksheet works through: a group of the shown step, or the typed example */
  worksheetSource: WorksheetSource
  setWorksheetSource(source: WorksheetSource): void
  /** a panel, chart or trace a lesson points at (its aria-label), drawn outlined; null: none */
  highlight: string | null
  setHighlight(label: string | null): void
  shareLink(autostart: boolean): string
  exportRun(): Promise<RunFile | null>
  /** a step's trace: from memory, else from IndexedDB (null when it is in neither) */
  traceAt(step: number): Promise<TraceRecord | null>
  exportCsv(): string
  exportModel(format?: ModelFormat): void
  /** the shown run's configuration (else the one in the controls) as a TRL project, a .zip: from its
   *  base model, or with `current` from the live run's model now; says what did not map */
  exportTrl(current?: boolean): void
  /** a model dropped or chosen on the page (a lab .safetensors, a Hugging Face folder's files, or a .zip
   *  of one), kept in IndexedDB as a local base model; base_model is set to it */
  importBaseModel(name: string, files: Map<string, Uint8Array>): Promise<void>
  /** a run file: shown (`open`), or added to the comparison (`compare`) */
  importRun(text: string, as: 'open' | 'compare'): void
  /** an offline lesson file (a .zip "Download for offline use" wrote): its models and replays
   *  kept, its lesson opened; a bad file is said (naming what is wrong) and nothing changes */
  openLessonFile(bytes: Uint8Array, fileName: string): Promise<boolean>
  /** keep a run of any source (live, saved, imported, replay) on the charts beside the shown one;
   *  the first added with none compared makes the shown run the baseline */
  compareRun(run: ComparedRun): void
  /** add a run kept in IndexedDB to the comparison */
  compareSaved(id: string): Promise<void>
  /** the runs kept in IndexedDB a comparison can add, newest first */
  savedRuns(): Promise<db.RunHeader[]>
  uncompare(id: string): void
  clearCompared(): void
  groupLogprobs(prompt: string, completions: string[]): Promise<number[][]>
  /** the visitor's consent to fetch base models from `origin`; starts the run when none is on */
  allowOrigin(origin: string): void
  alert(text: string, action?: Alert['action']): void
  dismiss(id: number): void
}

const FLUSH_MS = 150
let worker: Worker | null = null
let alertIds = 0
let pending: { metrics: Metrics[]; traces: TraceRecord[]; evals: EvalRecord[] } = { metrics: [], traces: [], evals: [] }
let flushTimer: ReturnType<typeof setTimeout> | null = null
let latestSnapshot: TrainerSnapshot | null = null
/** the latest snapshot, until the next flush stores it */
let pendingSnapshot: TrainerSnapshot | null = null
const logpRequests = new Map<number, { resolve: (v: number[][]) => void; reject: (e: Error) => void }>()
let logpIds = 0
/** counts the worker's state messages: a state shown late (after a write) never overrides a newer one */
let stateMessages = 0

/** What a comparison keeps of a run: its steps' figures, not its traces. */
const comparedOf = (r: ComparedRun): ComparedRun => ({ id: r.id, name: r.name, config: r.config, metrics: r.metrics, evals: r.evals, source: r.source })
/** The run being left (a new Start, an import) stays on the charts, compared with the next. */
const keepLeft = (list: ComparedRun[], left: RunView | null) => (left && left.metrics.length ? addCompared(list, comparedOf(left)) : list)

const newRunId = () => `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`
const sameConfig = (a: RunConfig, b: RunConfig) => JSON.stringify(resolvePartial(a as never).config) === JSON.stringify(resolvePartial(b as never).config)

/** Where this page would fetch `baseModel` from (same origin, another origin, or nowhere). */
export function pageModelSource(baseModel: string): ModelSource {
  return modelSource(baseModel, location.href, import.meta.env.BASE_URL)
}

// IndexedDB can be missing (private windows of some browsers) or full (quota). The run then goes
// on in memory, the page says so once, and traces are no longer dropped from memory.
let storageFailed = false
/** the last step of the shown run whose trace is known to be in IndexedDB */
let storedThrough = 0
/** The shown run's writes, one after another: false once one failed, and then no later step or
 *  snapshot is written, so that what is stored stays a whole prefix of the run (steps 1…k with a
 *  snapshot at k or before), never a run with a gap or a snapshot ahead of its steps. */
let runWrites: Promise<boolean> = Promise.resolve(true)

function writeInOrder(write: () => Promise<unknown>): Promise<boolean> {
  runWrites = runWrites.then((ok) => ok && write().then(() => true, (e) => { noStorage(e); return false }))
  return runWrites
}

function noStorage(e: unknown): void {
  if (storageFailed) return
  storageFailed = true
  const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  useLab.getState().alert(`This browser's storage (IndexedDB) is not available (${why}). The run goes on in memory, ` +
    'but it will not survive a reload: export it to keep it.', 'export-run')
}

/** A failed IndexedDB write is told once (noStorage), never thrown: training goes on. */
function persist<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((e) => { noStorage(e); return undefined })
}

/** a run this page trains or trained (kept in IndexedDB), not one read from a file or a replay */
const inStorage = (run: RunView) => run.source !== 'imported' && run.source !== 'replay'

// metrics rows, traces and evaluations all carry their step
const stepOf = (x: object) => (x as { step: number }).step

/** Steps in step order; a step already there (recomputed after a resume) is replaced. */
function merged<T extends object>(shown: T[], incoming: T[]): T[] {
  if (incoming.length === 0) return shown
  if (shown.length === 0 || stepOf(shown[shown.length - 1]) < stepOf(incoming[0])) return shown.concat(incoming)
  const out = shown.slice()
  for (const x of incoming) {
    const at = out.findIndex((y) => stepOf(y) === stepOf(x))
    if (at >= 0) out[at] = x
    else out.splice(out.findIndex((y) => stepOf(y) > stepOf(x)) >>> 0, 0, x) // >>> 0: -1 appends
  }
  return out
}

/** Drop the oldest traces beyond db.TRACE_WINDOW, but only those IndexedDB holds. */
function windowed(traces: TraceRecord[]): TraceRecord[] {
  if (storageFailed) return traces // memory is the only copy now
  let drop = 0
  while (traces.length - drop > db.TRACE_WINDOW && traces[drop].step <= storedThrough) drop++
  return drop ? traces.slice(drop) : traces
}

const deviceLostText = (message: string, during: Activity, resumeFrom: number | null) => {
  // message: DeviceLostError's "the GPU device was lost (reason: detail)"
  const what = `The GPU device was lost during ${during} ${message.replace(/^the GPU device was lost /, '')}.`
  if (during === 'pretraining' && resumeFrom === null) return `${what} Pretrain again to retry on a new device.`
  if (resumeFrom === null) return `${what} Start a new run to go on (a new device is acquired).`
  const retry = during === 'pretraining' ? ' Pretrain again to retry on a new device. The paused run:' : ' Every step shown is kept.'
  const from = resumeFrom ? `from step ${resumeFrom} (the last snapshot)` : 'from the start (no snapshot yet; same seed, same steps)'
  return `${what}${retry} Resume continues on a new device ${from}; ` +
    'the steps after it are recomputed. Or add ?backend=cpu to the address to train on the CPU.'
}

/** Where a saved run can go on from: its snapshot, or (steps but none yet: a reload before the
 *  first) step 0, whose seed recomputes the same steps; null for a finished or empty run. */
export function resumableStep(snapshotStep: number | null, lastStep: number, maxSteps: number): { step: number } | null {
  const from = snapshotStep ?? (lastStep > 0 ? 0 : null)
  return from !== null && from < maxSteps ? { step: from } : null
}

const baseModelProblem = (from: string, why: string) =>
  `The base model could not be loaded from ${from} (${why}). You can train from fresh weights, or pretrain a base model here.`

/** A base model pretrained in this browser, from IndexedDB; never a fetch of a file that does not exist. */
async function localBaseBytes(name: string): Promise<Uint8Array> {
  const m = await db.loadModel(name).catch((e) => { throw new Error(`IndexedDB: ${(e as Error).message}`) })
  if (!m) throw new Error("it is no longer in this browser's storage")
  return m.bytes
}
const localBaseName = (name: string) => `'${name}' pretrained in this browser`

/** Save bytes as a file the browser downloads. */
export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }))
  const a = document.createElement('a')
  a.href = url; a.download = name
  document.body.appendChild(a); a.click(); a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export const useLab = create<LabState>((set, get) => {
  function flush(): void {
    flushTimer = null
    const run = get().run
    const snapshot = pendingSnapshot
    pendingSnapshot = null
    if (!run) return
    if (pending.metrics.length || pending.evals.length) appendBatch(run)
    // after the steps it follows, so that it is never stored without them
    if (snapshot) void writeInOrder(() => db.saveSnapshot({ runId: run.id, step: snapshot.step, snapshot }))
  }

  function appendBatch(run: RunView): void {
    const batch = pending
    pending = { metrics: [], traces: [], evals: [] }
    set({ run: { ...run, metrics: merged(run.metrics, batch.metrics), traces: windowed(merged(run.traces, batch.traces)), evals: merged(run.evals, batch.evals) } })
    void writeInOrder(() => db.appendSteps(
      batch.metrics.map((m, i) => ({ runId: run.id, step: m.step, metrics: m, trace: batch.traces[i] })),
      batch.evals.map((e) => ({ ...e, runId: run.id })),
    )).then((ok) => {
      if (ok && get().run?.id === run.id && batch.metrics.length) storedThrough = Math.max(storedThrough, batch.metrics[batch.metrics.length - 1].step)
    })
  }
  const scheduleFlush = () => { flushTimer ??= setTimeout(flush, FLUSH_MS) }
  /** what the worker sent for the run being left, not yet shown or stored */
  const forgetPending = () => {
    if (flushTimer) { clearTimeout(flushTimer); flushTimer = null }
    pending = { metrics: [], traces: [], evals: [] }
    pendingSnapshot = null
  }

  function onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ready': {
        // also after a lost device, when the worker has a new one: only the first one starts anything
        const first = get().runState === 'loading'
        set({ adapter: m.adapter, fallbackReason: m.fallbackReason ?? null, ...(first ? { runState: 'idle' as const } : {}) })
        worker?.postMessage({ type: 'speed', delayMs: get().delayMs } satisfies ToWorker)
        // a replay link plays its recorded run instead (src/store/replayStore.ts)
        if (first && get().autostart && !get().run && !get().replayWanted) get().start()
        break
      }
      case 'grpo-step': pending.metrics.push(m.metrics); pending.traces.push(m.trace); scheduleFlush(); break
      case 'eval': pending.evals.push({ step: m.step, metrics: m.metrics }); scheduleFlush(); break
      case 'snapshot': {
        latestSnapshot = m.snapshot
        pendingSnapshot = m.snapshot
        scheduleFlush()
        break
      }
      case 'state': {
        const seq = ++stateMessages
        if (m.state === 'running') { set({ runState: m.state }); break }
        flush() // everything of a paused or finished run is on screen
        // and stored: 'paused' is shown once its snapshot is in IndexedDB, so a reload right after
        // it resumes from that step (a write begun at pagehide may never finish)
        void runWrites.then(() => { if (seq === stateMessages) set({ runState: m.state }) })
        break
      }
      case 'progress':
        set((s) => {
          const progress = { ...s.progress }
          if (m.done) delete progress[m.task]
          else progress[m.task] = { label: m.label, fraction: m.fraction }
          return { progress }
        })
        break
      case 'model': download(m.name, m.bytes as BlobPart, 'application/octet-stream'); break
      case 'group-logp': logpRequests.get(m.requestId)?.resolve(m.logp); logpRequests.delete(m.requestId); break
      case 'group-logp-error': logpRequests.get(m.requestId)?.reject(new Error(m.message)); logpRequests.delete(m.requestId); break
      case 'base-model-error':
        get().alert(baseModelProblem(m.file, m.message), 'fresh-weights')
        break
      case 'pretrained': {
        const note = `Base model '${m.name}' pretrained in this browser (${m.steps} steps, final loss ${m.loss.toFixed(3)}); base_model is set to it.`
        set((s) => ({ localModels: s.localModels.includes(m.name) ? s.localModels : [...s.localModels, m.name],
          importedModels: s.importedModels.filter((n) => n !== m.name), pretrainNote: note }))
        for (const p of get().setConfig({ base_model: m.name })) get().alert(`base_model was not set to the pretrained model: ${p.message}`)
        persist(db.saveModel({ name: m.name, bytes: m.bytes, loss: m.loss, steps: m.steps, createdAt: Date.now() }))
        break
      }
      case 'device-lost': {
        flush() // every step that arrived stays on screen
        const run = get().run
        // a run paused beside the pretraining lost its trainer too: it resumes like any other
        const unfinished = run && inStorage(run) && (run.metrics.at(-1)?.step ?? 0) < run.config.max_steps
        const from = unfinished ? latestSnapshot?.step ?? 0 : null
        if (from !== null) set({ resumable: { step: from } })
        get().alert(deviceLostText(m.message, m.during, from), from === null ? undefined : 'resume')
        break
      }
      case 'error':
        get().alert(m.message)
        for (const r of logpRequests.values()) r.reject(new Error(m.message))
        logpRequests.clear()
        break
    }
  }

  /** How the worker gets the config's base model, or null after saying why not: a model on
   *  another origin is never fetched before the visitor allows that origin. */
  function clearance(config: RunConfig): { local: boolean; modelUrl?: string } | null {
    const s = get()
    const local = config.base_model !== '' && (s.localModels.includes(config.base_model) || Object.hasOwn(s.bundleModels, config.base_model))
    const source = pageModelSource(config.base_model)
    switch (source.kind) {
      case 'fresh': return { local: false }
      case 'same-origin': return { local, modelUrl: source.url }
      case 'refused':
        if (local) return { local }
        s.alert(`Not started: ${source.message}.`, 'fresh-weights')
        return null
      case 'other-origin':
        if (s.allowedOrigins.includes(source.origin)) return { local, modelUrl: source.url }
        s.alert(`Not started: the base model is on another site, ${source.host}, and nothing has been fetched from it. ` +
          `Press “Allow loading from ${source.host}” to load it, or train from fresh weights.`, 'fresh-weights')
        return null
    }
  }

  /** A base model's bytes the page holds: from an opened lesson file, else from IndexedDB. */
  function baseBytes(name: string): Promise<Uint8Array> {
    const m = get().bundleModels
    return Object.hasOwn(m, name) ? Promise.resolve(m[name]) : localBaseBytes(name)
  }

  const initial = linkState(location.hash)
  return {
    adapter: null,
    fallbackReason: null,
    runState: 'loading',
    config: initial.config,
    presetId: initial.presetId,
    hidden: initial.hidden,
    autostart: initial.autostart,
    lessonId: initial.lesson,
    replayWanted: initial.replay,
    linkProblems: initial.linkProblems,
    run: null,
    compared: [],
    resumable: null,
    progress: {},
    alerts: [],
    delayMs: 0,
    localModels: [],
    importedModels: [],
    pretrainNote: null,
    allowedOrigins: [],
    bundleModels: {},
    bundleReplays: {},
    bundleLesson: null,

    pretrain(steps) {
      let config: RunConfig
      try { config = resolveRunConfig(get().config as never) } catch (e) { get().alert(`Cannot pretrain: ${(e as Error).message}`); return }
      set({ pretrainNote: null })
      get().send({ type: 'pretrain', config, steps })
    },

    cancelPretrain() { get().send({ type: 'cancel-pretrain' }) },

    connect() {
      if (worker) return
      worker = new Worker(new URL('../lab/worker.ts', import.meta.url), { type: 'module' })
      worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data)
      worker.onerror = (e) => get().alert(`The training worker failed: ${e.message}`)
      // the steps still waiting for the next flush go to IndexedDB before the page goes away
      addEventListener('pagehide', () => flush())
      // a new link in the same tab (pasted, or a lesson's next step)
      addEventListener('hashchange', () => {
        const l = linkState(location.hash)
        set({ config: l.config, presetId: l.presetId, hidden: l.hidden, lessonId: l.lesson, replayWanted: l.replay, linkProblems: l.linkProblems })
      })
      // the run this browser showed last, unless the link asks for another configuration
      db.loadCurrentRun().then((saved) => {
        if (!saved || get().run) return
        if (initial.hasLink && !sameConfig(saved.header.config, initial.config)) return
        storedThrough = saved.steps.at(-1)?.step ?? 0
        set({
          config: saved.header.config,
          presetId: presetOf(saved.header.config, DEFAULT_RUN_CONFIG)?.id ?? null,
          run: {
            id: saved.header.id, name: saved.header.name, config: saved.header.config, source: 'saved',
            metrics: saved.steps.map((s) => s.metrics), traces: windowed(saved.steps.map((s) => s.trace)), evals: saved.evals,
          },
          resumable: resumableStep(saved.snapshot?.step ?? null, saved.steps.at(-1)?.step ?? 0, saved.header.config.max_steps),
        })
        latestSnapshot = saved.snapshot?.snapshot ?? null
      }).catch(noStorage)
      db.modelNames().then((localModels) => set({ localModels })).catch(() => { /* no storage: nothing pretrained here */ })
      db.importedModelNames().then((importedModels) => set({ importedModels })).catch(() => { /* no storage: nothing imported */ })
      // ?backend=cpu: the fast CPU backend; ?backend=reference: the TypeScript one; else WebGPU
      const asked = new URLSearchParams(location.search).get('backend')
      const wanted = asked === 'cpu' || asked === 'reference' ? asked : 'webgpu'
      worker.postMessage({ type: 'init', backend: wanted } satisfies ToWorker)
    },

    send(m) { worker?.postMessage(m) },

    setConfig(patch) {
      // the same rules as a link's: a value that breaks one is refused, the rest is kept
      const { config, problems } = resolvePartial(patch, get().config)
      set({ config, presetId: presetOf(config, DEFAULT_RUN_CONFIG)?.id ?? null })
      return problems
    },

    freshWeights() {
      const problems = get().setConfig({ base_model: '' })
      for (const p of problems) get().alert(`Fresh weights cannot be used as configured: ${p.message}`)
      return problems.length === 0
    },

    choosePreset(id) {
      const p = presetById(id)
      if (!p) return
      // a preset keeps the seed: changing the recipe should not change the luck
      set((s) => ({ config: { ...DEFAULT_RUN_CONFIG, ...p.values, seed: s.config.seed }, presetId: id }))
    },

    start(opts = {}) {
      let config: RunConfig
      try {
        config = resolveRunConfig(get().config as never)
      } catch (e) {
        get().alert(`Cannot start: ${(e as Error).message}`)
        return
      }
      const source = clearance(config)
      if (!source) return
      forgetPending()
      latestSnapshot = null
      storedThrough = 0
      runWrites = Promise.resolve(true) // a new run tries storage again (and tells again if it fails)
      storageFailed = false
      const previous = get().run
      const run: RunView = { id: newRunId(), name: `${config.task} ${config.loss_type} seed ${config.seed}`, config, metrics: [], traces: [], evals: [], source: 'live' }
      // the run that was on screen stays on the charts, compared with this one
      set((s) => ({
        run, resumable: null, alerts: s.alerts.filter((a) => a.action !== 'fresh-weights'),
        compared: keepLeft(s.compared, previous), traceIndex: null,
      }))
      void writeInOrder(() => db.saveHeader({ id: run.id, name: run.name, config, createdAt: Date.now() }))
      // the address names the run on screen: a reload finds it again (the saved run is restored only
      // when the link asks for its configuration), and the address bar is a share link. No hashchange.
      if (location.hash.length > 1) history.replaceState(history.state, '', encodeLink(config, get().hidden, false, { lesson: get().lessonId, replay: get().replayWanted })) // no autostart: a reload must not start a second run
      const send = (baseBytes?: Uint8Array) => get().send({ type: 'start-grpo', config, paused: opts.paused, stepOnce: opts.stepOnce, baseBytes, modelUrl: source.modelUrl })
      // a base model pretrained in this browser goes along; any other is fetched by the worker
      if (source.local) {
        const base = config.base_model
        baseBytes(base).then(send, (e) => {
          set({ runState: 'idle' })
          get().alert(baseModelProblem(localBaseName(base), (e as Error).message), 'fresh-weights')
        })
      } else send()
    },

    step() {
      const s = get()
      if (s.runState === 'paused') s.send({ type: 'step' })
    },

    pauseOrResume() {
      const s = get()
      if (s.runState === 'running') s.send({ type: 'pause' })
      else if (s.runState === 'paused') s.send({ type: 'resume' })
    },

    reset() {
      get().send({ type: 'stop' })
      forgetPending()
      const run = get().run
      // after the run's writes still under way (even failed ones: deleting frees space)
      if (run && inStorage(run)) void runWrites.then(() => persist(db.deleteRun(run.id)))
      // a compared entry of this run keeps all the steps it had (the list holds them, not IndexedDB)
      set((s) => ({ run: null, resumable: null, traceIndex: null,
        compared: run && s.compared.some((r) => r.id === run.id) ? addCompared(s.compared, comparedOf(run)) : s.compared }))
    },

    async resumeSaved() {
      const { run, resumable } = get()
      // step 0: no snapshot yet; the run starts again from its seed, which recomputes the same steps
      const snapshot = resumable?.step ? latestSnapshot : null
      if (!run || !resumable || (resumable.step > 0 && !snapshot)) return
      const source = clearance(run.config)
      if (!source) return
      // the snapshot holds the weights; the base model only shapes the trainer (and its reference)
      let bytes: Uint8Array | undefined
      if (source.local) {
        try { bytes = await baseBytes(run.config.base_model) } catch (e) {
          get().alert(baseModelProblem(localBaseName(run.config.base_model), (e as Error).message))
          return
        }
      }
      // the steps after the snapshot stay shown; each is replaced as it is recomputed (flush)
      set((s) => ({ resumable: null, run: { ...run, source: 'live' }, alerts: s.alerts.filter((a) => a.action !== 'resume') }))
      get().send({ type: 'start-grpo', config: run.config, resume: snapshot ?? undefined, baseBytes: bytes, modelUrl: source.modelUrl })
    },

    setSpeed(delayMs) { set({ delayMs }); get().send({ type: 'speed', delayMs }) },

    setHidden(hidden) { set({ hidden }) },
    traceIndex: null,
    setTraceIndex(traceIndex) { set({ traceIndex }) },
    worksheetSource: { kind: 'group', index: 0 },
    setWorksheetSource(worksheetSource) { set({ worksheetSource }) },
    highlight: null,
    setHighlight(highlight) { set({ highlight }) },

    shareLink(autostart) {
      const base = location.href.replace(/#.*$/, '')
      return base + encodeLink(get().config, get().hidden, autostart, { lesson: get().lessonId, replay: get().replayWanted })
    },

    async exportRun() {
      flush()
      const run = get().run
      if (!run) { get().alert('There is no run to export yet: start one or import a run file.'); return null }
      // the traces older than the window are in IndexedDB
      const stored = run.traces.length < run.metrics.length && inStorage(run)
        ? await db.loadTraces(run.id).catch((e) => { noStorage(e); return [] }) : []
      const file = makeRunFile(run.name, run.config, run.metrics, merged(stored, run.traces), run.evals)
      download(`grpo-lab-${run.config.task}-${run.config.loss_type}-seed${run.config.seed}.json`, JSON.stringify(file), 'application/json')
      return file
    },

    exportCsv() {
      flush()
      const run = get().run
      if (!run) { get().alert('There are no metrics to export yet: start a run first.'); return '' }
      const csv = metricsCsv(run.metrics)
      download(`grpo-lab-${run.config.task}-metrics.csv`, csv, 'text/csv')
      return csv
    },

    exportModel(format = 'safetensors') {
      const s = get()
      if (s.runState === 'idle' || s.runState === 'loading') { s.alert('There is no trained model here yet: start (or resume) a run first.'); return }
      // the card's held-out pass@1: the run's last evaluation
      const last = s.run?.evals.at(-1)?.metrics['eval/pass@1']
      const heldOut = format === 'hf' && last !== undefined ? { passAt1: last, problems: s.config.eval_problems } : undefined
      s.send({ type: 'export-model', format, heldOut })
    },

    exportTrl(current = false) {
      const s = get()
      let config: RunConfig
      try { config = resolveRunConfig((s.run?.config ?? s.config) as never) } catch (e) { s.alert(`Cannot export to TRL: ${(e as Error).message}`); return }
      if (current && (s.runState === 'idle' || s.runState === 'loading')) { s.alert('There is no live run to take the current model from: start (or resume) it first.'); return }
      const unmapped = Object.keys(LAB_ONLY)
      const say = () => s.alert(`Exporting to TRL: a .zip with model/, data/, rewards.py and train.py. Without a GRPOConfig field of their own: ` +
        `${unmapped.join(', ')} — train.py and README.md say what each became.`)
      if (current) { s.send({ type: 'export-trl', config, current: true }); say(); return }
      const source = clearance(config)
      if (!source) return
      const send = (baseBytes?: Uint8Array) => { s.send({ type: 'export-trl', config, baseBytes, modelUrl: source.modelUrl }); say() }
      if (source.local) {
        baseBytes(config.base_model).then(send, (e) => s.alert(baseModelProblem(localBaseName(config.base_model), (e as Error).message)))
      } else send()
    },

    async importBaseModel(name, files) {
      let bytes: Uint8Array
      try {
        const only = files.size === 1 ? [...files.values()][0] : undefined
        const ck = only ? checkpointFromBytes(only) : checkpointFromHfFiles(files)
        bytes = saveSafetensors(ck)
      } catch (e) {
        get().alert(`${name} is not a model this lab can load — ${(e as Error).message}. Nothing was changed.`)
        return
      }
      // a name base_model accepts, never a shipped model's
      let id = name.replace(/\.(zip|safetensors)$/, '').replace(/[^\w.-]+/g, '-').slice(0, 60) || 'imported'
      if (shippedModel(id)) id += '-imported'
      const note = `Base model '${id}' loaded from ${name} and kept in this browser; base_model is set to it.`
      const add = (names: string[]) => names.includes(id) ? names : [...names, id]
      set((s) => ({ localModels: add(s.localModels), importedModels: add(s.importedModels), pretrainNote: note }))
      for (const p of get().setConfig({ base_model: id })) get().alert(`base_model was not set to the imported model: ${p.message}`)
      await persist(db.saveModel({ name: id, bytes, loss: NaN, steps: 0, createdAt: Date.now(), origin: 'imported' }))
    },

    importRun(text, as) {
      let file: RunFile
      try {
        file = parseRunFile(text)
      } catch (e) {
        get().alert(`This file is not a run this lab can read — ${(e as Error).message}. Nothing was changed.`)
        return
      }
      if (as === 'compare') {
        get().compareRun({ id: newRunId(), name: file.name, config: file.config, metrics: file.metrics, evals: file.evals, source: 'imported' })
        return
      }
      const s = get()
      if (s.runState === 'running' || s.runState === 'paused') s.send({ type: 'stop' })
      const previous = s.run
      set({
        config: file.config, presetId: presetOf(file.config, DEFAULT_RUN_CONFIG)?.id ?? null, resumable: null, traceIndex: null,
        run: { id: newRunId(), name: file.name, config: file.config, metrics: file.metrics, traces: file.traces, evals: file.evals, source: 'imported' },
        compared: keepLeft(s.compared, previous),
      })
    },

    async openLessonFile(bytes, fileName) {
      let opened
      try {
        // the unpacking and checks load with the first file opened, not with the page
        const { openLessonFile } = await import('../lab/lessonBundle')
        opened = openLessonFile(bytes)
      } catch (e) {
        get().alert(`${fileName} could not be opened — ${(e as Error).message}. Nothing was changed.`)
        return false
      }
      const { lesson, text, replays, models } = opened
      set((s) => ({
        bundleModels: { ...s.bundleModels, ...models }, bundleReplays: { ...s.bundleReplays, ...replays },
        bundleLesson: { lesson, text }, lessonId: lesson.id,
      }))
      // the address names the lesson (a copied link opens it from the site); no hashchange, which
      // would take the lesson from the link again
      const s = get()
      history.replaceState(history.state, '', encodeLink(s.config, s.hidden, false, { lesson: lesson.id, replay: s.replayWanted }))
      return true
    },

    compareRun(run) {
      // the run on screen joins first (the baseline, when none is compared yet)
      set((s) => ({ compared: compareWith(s.compared, s.run && comparedOf(s.run), comparedOf(run)) }))
    },

    async compareSaved(id) {
      const saved = await db.loadRun(id).catch((e) => { noStorage(e); return null })
      if (!saved) { get().alert('That run is no longer in this browser\'s storage (it keeps the last 10 runs).'); return }
      get().compareRun({ id: saved.header.id, name: saved.header.name, config: saved.header.config, source: 'saved',
        metrics: saved.steps.map((s) => s.metrics), evals: saved.evals })
    },

    savedRuns() { return db.listRuns().catch(() => []) },

    uncompare(id) { set((s) => ({ compared: removeCompared(s.compared, id) })) },
    clearCompared() { set({ compared: [] }) },

    async traceAt(step) {
      const run = get().run
      if (!run) return null
      return run.traces.find((t) => t.step === step) ?? (inStorage(run) ? await db.loadTrace(run.id, step) : null)
    },

    groupLogprobs(prompt, completions) {
      return new Promise((resolve, reject) => {
        const requestId = ++logpIds
        logpRequests.set(requestId, { resolve, reject })
        get().send({ type: 'group-logp', requestId, prompt, completions })
      })
    },

    allowOrigin(origin) {
      set((s) => ({ allowedOrigins: s.allowedOrigins.includes(origin) ? s.allowedOrigins : [...s.allowedOrigins, origin] }))
      const s = get()
      if (s.runState === 'idle' || s.runState === 'done') s.start()
      else if (s.runState === 'loading') set({ autostart: true }) // once the engine is ready
    },

    alert(text, action) { set((s) => ({ alerts: [...s.alerts.slice(-4), { id: ++alertIds, text, action }] })) },
    dismiss(id) { set((s) => ({ alerts: s.alerts.filter((a) => a.id !== id) })) },
  }
})
