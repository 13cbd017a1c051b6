// Runs kept in IndexedDB (plain API), so that a reload loses nothing: a header per run, one
// record per step (metrics + trace, written as they come: no rewrite of the whole run), the
// evaluations, and the latest trainer snapshot for resume.
import type { EvalRecord } from '../lab/runFile'
import type { RunConfig } from '../rl/config'
import type { Metrics, TraceRecord, TrainerSnapshot } from '../rl/trainer'

export interface RunHeader {
  id: string
  name: string
  config: RunConfig
  createdAt: number
}

export interface StepRecord { runId: string; step: number; metrics: Metrics; trace: TraceRecord }
export interface SavedSnapshot { runId: string; step: number; snapshot: TrainerSnapshot }

export interface SavedRun {
  header: RunHeader
  steps: StepRecord[]
  evals: EvalRecord[]
  snapshot: SavedSnapshot | null
}

const DB_NAME = 'grpo-lab'
const CURRENT_KEY = 'grpo-lab:current-run'
let dbPromise: Promise<IDBDatabase> | null = null

function open(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 2)
    req.onupgradeneeded = (e) => {
      const db = req.result
      if (e.oldVersion < 1) {
        db.createObjectStore('runs', { keyPath: 'id' })
        db.createObjectStore('steps', { keyPath: ['runId', 'step'] })
        db.createObjectStore('evals', { keyPath: ['runId', 'step'] })
        db.createObjectStore('snapshots', { keyPath: 'runId' })
      }
      if (e.oldVersion < 2) db.createObjectStore('models', { keyPath: 'name' }) // base models pretrained here
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
  return dbPromise
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error)
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'))
  })
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error) })
}

const ofRun = (runId: string) => IDBKeyRange.bound([runId, -Infinity], [runId, Infinity])

/** The page keeps the traces of this many recent steps in memory; older ones are read from here. */
export const TRACE_WINDOW = 200

/** Runs kept in this browser: older ones are dropped as new ones start (export to keep them). */
export const RUNS_KEPT = 10

export async function saveHeader(h: RunHeader): Promise<void> {
  const tx = (await open()).transaction('runs', 'readwrite')
  tx.objectStore('runs').put(h)
  await done(tx)
  localStorage.setItem(CURRENT_KEY, h.id)
  const all = await request((await open()).transaction('runs', 'readonly').objectStore('runs').getAll()) as RunHeader[]
  all.sort((a, b) => b.createdAt - a.createdAt)
  for (const old of all.slice(RUNS_KEPT)) await deleteRun(old.id)
}

/** A batch of steps is stored whole or not at all: a put that throws (a full disk can) aborts it. */
export async function appendSteps(steps: StepRecord[], evals: (EvalRecord & { runId: string })[] = []): Promise<void> {
  const tx = (await open()).transaction(['steps', 'evals'], 'readwrite')
  const finished = done(tx)
  try {
    for (const s of steps) tx.objectStore('steps').put(s)
    for (const e of evals) tx.objectStore('evals').put(e)
  } catch (e) {
    tx.abort()
    finished.catch(() => { /* the abort: the error thrown is the one that says why */ })
    throw e
  }
  await finished
}

export async function saveSnapshot(s: SavedSnapshot): Promise<void> {
  const tx = (await open()).transaction('snapshots', 'readwrite')
  tx.objectStore('snapshots').put(s)
  await done(tx)
}

/** One step's trace (the page keeps only recent ones in memory); null when it is not stored. */
export async function loadTrace(runId: string, step: number): Promise<TraceRecord | null> {
  const tx = (await open()).transaction('steps', 'readonly')
  return ((await request(tx.objectStore('steps').get([runId, step]))) as StepRecord | undefined)?.trace ?? null
}

/** Every stored trace of a run, in step order (for Export run). */
export async function loadTraces(runId: string): Promise<TraceRecord[]> {
  const tx = (await open()).transaction('steps', 'readonly')
  return ((await request(tx.objectStore('steps').getAll(ofRun(runId)))) as StepRecord[]).map((s) => s.trace)
}

export async function deleteRun(runId: string): Promise<void> {
  const tx = (await open()).transaction(['runs', 'steps', 'evals', 'snapshots'], 'readwrite')
  tx.objectStore('runs').delete(runId)
  tx.objectStore('steps').delete(ofRun(runId))
  tx.objectStore('evals').delete(ofRun(runId))
  tx.objectStore('snapshots').delete(runId)
  await done(tx)
  if (localStorage.getItem(CURRENT_KEY) === runId) localStorage.removeItem(CURRENT_KEY)
}

/** The run this page showed last, with everything saved of it; null when there is none. */
export async function loadCurrentRun(): Promise<SavedRun | null> {
  const id = localStorage.getItem(CURRENT_KEY)
  return id ? loadRun(id) : null
}

/** The runs kept in this browser, newest first (the ones a comparison can add). */
export async function listRuns(): Promise<RunHeader[]> {
  const all = await request((await open()).transaction('runs', 'readonly').objectStore('runs').getAll()) as RunHeader[]
  return all.sort((a, b) => b.createdAt - a.createdAt)
}

/** A run kept in this browser, with everything saved of it; null when it is not there. */
export async function loadRun(id: string): Promise<SavedRun | null> {
  const tx = (await open()).transaction(['runs', 'steps', 'evals', 'snapshots'], 'readonly')
  const header = await request(tx.objectStore('runs').get(id)) as RunHeader | undefined
  if (!header) return null
  const steps = await request(tx.objectStore('steps').getAll(ofRun(id))) as StepRecord[]
  const evals = await request(tx.objectStore('evals').getAll(ofRun(id))) as EvalRecord[]
  const snapshot = (await request(tx.objectStore('snapshots').get(id)) as SavedSnapshot | undefined) ?? null
  return { header, steps, evals, snapshot }
}

export interface LocalModel {
  name: string; bytes: Uint8Array; loss: number; steps: number; createdAt: number
  /** where it came from: pretrained here (the default, also for models saved before this field) or loaded from a file */
  origin?: 'pretrained' | 'imported'
}

export async function saveModel(m: LocalModel): Promise<void> {
  const tx = (await open()).transaction('models', 'readwrite')
  tx.objectStore('models').put(m)
  await done(tx)
}

export async function loadModel(name: string): Promise<LocalModel | null> {
  const tx = (await open()).transaction('models', 'readonly')
  return ((await request(tx.objectStore('models').get(name))) as LocalModel | undefined) ?? null
}

export async function modelNames(): Promise<string[]> {
  const tx = (await open()).transaction('models', 'readonly')
  return (await request(tx.objectStore('models').getAllKeys())).map(String)
}

/** The names of the models loaded from files (not pretrained here). */
export async function importedModelNames(): Promise<string[]> {
  const tx = (await open()).transaction('models', 'readonly')
  return ((await request(tx.objectStore('models').getAll())) as LocalModel[]).filter((m) => m.origin === 'imported').map((m) => m.name)
}
