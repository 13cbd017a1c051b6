// A replay: a run recorded by `grpo-lab record` (src/cli/main.ts) on the backend the page itself
// trains on without WebGPU, shipped in public/replays/<preset id>.json, so that a link plays it at
// once — on a phone, without WebGPU, while the live engine warms up — and a live run of the same
// config on the same backend reproduces its numbers bit for bit (test/unit/replay-reproduce.test.ts,
// e2e/replay.spec.ts).
//
// What it holds:
// - `run`: a run file (src/lab/runFile.ts: name, config, traces, evaluations) whose config is the
//   preset's whole run (its schedule spans max_steps) although only the first `steps` steps were
//   recorded for the slow presets; its `metrics` are written as columns beside it, for size (a
//   step's 45 metric names took 80% of its text): `metric_names` once, and `metric_rows`, one per
//   step, each value a number, null for NaN (as in run files: a metric of an empty set) or "-" for
//   a metric that step did not log (cold_start/loss is logged at step 1 only). Exact numbers;
// - `run.traces`: the traces of step 1 and of every `trace_every`-th step (a subset, for size;
//   trace_every 1 keeps them all);
// - `worksheet`: what the worksheet needs for a group without a model — each completion's per-token
//   log-probs under the policy after that step (as the live worksheet asks the worker for: the old
//   policy is the same model at μ = 1 and the worksheet's reference is the policy, as live) for the
//   first groups of every traced step. Log-probs are float32 values written in the fewest digits
//   that read back as the same float32 (exact, and a third of the text of a double).
// Every field is checked on load: a replay is fetched, so it is untrusted input like a run file.
import { labFileObject, parseLabFileText, type RunFile, RunFileError, runFileOf } from './runFile'

export const REPLAY_FORMAT = 'grpo-lab/replay'
export const REPLAY_VERSION = 1
/** Replays are small (≤ 400 KB aimed for); anything far past that is not one of ours. */
export const MAX_REPLAY_BYTES = 4 * 1024 * 1024
const MAX_MEMBERS = 1024
const MAX_STEPS = 100_000
/** a metric a step did not log, in metric_rows */
const ABSENT = '-'
/** the worksheet's inputs of at most this many groups in all */
const MAX_WORKSHEET_GROUPS = 2048
/** a completion has at most max_completion_length tokens (at most 1024) */
const MAX_TOKENS = 1024

/** The presets whose replay ships in public/replays/ (test/unit/replay.test.ts checks the files). */
export const SHIPPED_REPLAYS = ['echo', 'echo-kl', 'echo-mu4', 'addition', 'addition-trained', 'countdown', 'countdown-dr-grpo', 'countdown-trained', 'format-first', 'dr-grpo', 'dapo', 'with-kl', 'cold-start', 'group-2'] as const

/** One group's worksheet inputs: the log-probs of each of its completions' tokens. */
export interface ReplayWorksheetGroup { step: number; group: number; logp: number[][] }

export interface Replay {
  format: typeof REPLAY_FORMAT
  version: number
  /** the preset it records (the file is public/replays/<preset>.json) */
  preset: string
  /** the backend it was recorded on: its kind and the page's adapter label for it */
  backend: { kind: 'cpu'; label: string }
  /** steps recorded: all of run.config.max_steps, or the first part of a slow preset's run */
  steps: number
  /** traces kept: step 1 and every trace_every-th step */
  trace_every: number
  /** how it was made (the command) and how long it took */
  recorded: { command: string; minutes: number }
  run: RunFile
  worksheet: ReplayWorksheetGroup[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function int(v: unknown, field: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new RunFileError(field, `expected an integer from ${lo} to ${hi}`)
  return v
}

function text(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.length > max) throw new RunFileError(field, `expected text of at most ${max} characters`)
  return v
}

function array(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new RunFileError(field, 'expected an array')
  if (v.length > max) throw new RunFileError(field, `${v.length} entries; allowed: at most ${max}`)
  return v
}

/** Is `step` one whose trace a replay keeps? */
export const keepsTrace = (step: number, traceEvery: number) => step === 1 || step % traceEvery === 0

/** The shortest decimal text that reads back as the same float32: exact, and short. */
export function float32Text(x: number): number {
  const f = Math.fround(x)
  for (let digits = 1; digits < 17; digits++) {
    const y = Number(f.toPrecision(digits))
    if (Math.fround(y) === f) return y
  }
  return f
}

/** Parse and check a replay's text; throws RunFileError naming the bad field (run.* for the run file in it). */
export function parseReplay(raw: string): Replay {
  return replayOf(parseLabFileText(raw, MAX_REPLAY_BYTES))
}

export function replayOf(value: unknown): Replay {
  const v = labFileObject(value, REPLAY_FORMAT, REPLAY_VERSION, 'grpo-lab record')
  const preset = text(v.preset, 'preset', 40)
  if (!/^[a-z0-9][a-z0-9-]*$/.test(preset)) throw new RunFileError('preset', 'expected a preset id (lower-case letters, digits, dashes)')
  if (!isObject(v.backend)) throw new RunFileError('backend', 'expected {kind, label}')
  if (v.backend.kind !== 'cpu') throw new RunFileError('backend.kind', `got ${JSON.stringify(v.backend.kind)?.slice(0, 20)}; allowed: "cpu" (the fast CPU backend)`)
  const backend = { kind: 'cpu' as const, label: text(v.backend.label, 'backend.label', 200) }
  if (!isObject(v.recorded)) throw new RunFileError('recorded', 'expected {command, minutes}')
  const minutes = v.recorded.minutes
  if (typeof minutes !== 'number' || !(minutes >= 0 && minutes < 1e4)) throw new RunFileError('recorded.minutes', 'expected a number of minutes from 0 to 10000')
  const recorded = { command: text(v.recorded.command, 'recorded.command', 400), minutes }
  if (!isObject(v.run)) throw new RunFileError('run', 'expected a run file without its metrics')
  if (v.run.metrics !== undefined) throw new RunFileError('run.metrics', 'not in a replay: its metrics are metric_names and metric_rows')
  const metrics = metricRowsOf(v.metric_names, v.metric_rows)
  let run: RunFile
  try { run = runFileOf({ ...v.run, metrics }) } catch (e) {
    if (e instanceof RunFileError) throw new RunFileError(`run.${e.field}`, e.message.slice(e.field.length + 2))
    throw e
  }
  const steps = int(v.steps, 'steps', 1, run.config.max_steps)
  const traceEvery = int(v.trace_every, 'trace_every', 1, MAX_STEPS)
  checkSteps(run, steps, traceEvery)
  const worksheet = array(v.worksheet, 'worksheet', MAX_WORKSHEET_GROUPS).map((w, i) => worksheetGroupOf(w, `worksheet[${i}]`, run))
  return { format: REPLAY_FORMAT, version: REPLAY_VERSION, preset, backend, steps, trace_every: traceEvery, recorded, run, worksheet }
}

/** The metric columns back as a run file's rows (a name per column, once; values as the header says). */
function metricRowsOf(names: unknown, rows: unknown): Record<string, number | null>[] {
  const cols = array(names, 'metric_names', MAX_MEMBERS).map((n, i) => text(n, `metric_names[${i}]`, 80))
  const dup = cols.find((n, i) => cols.indexOf(n) !== i)
  if (dup !== undefined) throw new RunFileError('metric_names', `${JSON.stringify(dup)} is named twice`)
  return array(rows, 'metric_rows', MAX_STEPS).map((row, i) => {
    const values = array(row, `metric_rows[${i}]`, cols.length)
    if (values.length !== cols.length) throw new RunFileError(`metric_rows[${i}]`, `${values.length} values; expected one per metric name (${cols.length})`)
    const entries: [string, number | null][] = []
    values.forEach((x, j) => {
      if (x === ABSENT) return
      if (x !== null && (typeof x !== 'number' || !Number.isFinite(x))) {
        throw new RunFileError(`metric_rows[${i}][${j}] (${cols[j]})`, `expected a finite number, null (NaN) or "${ABSENT}" (not logged at this step)`)
      }
      entries.push([cols[j], x])
    })
    // fromEntries: a metric named "__proto__" stays a metric
    return Object.fromEntries(entries)
  })
}

/** A replay as its file's text (the inverse of parseReplay). */
export function replayText(r: Replay): string {
  const names: string[] = []
  for (const m of r.run.metrics) for (const k of Object.keys(m)) if (!names.includes(k)) names.push(k)
  const rows = r.run.metrics.map((m) => names.map((k) => (!Object.hasOwn(m, k) ? ABSENT : Number.isNaN(m[k]) ? null : m[k])))
  const { metrics: _, ...run } = r.run
  return JSON.stringify({ ...r, run, metric_names: names, metric_rows: rows })
}

/** Steps 1…steps each once, in order; a trace for each kept step and no other; evaluations at recorded steps. */
function checkSteps(run: RunFile, steps: number, traceEvery: number): void {
  if (run.metrics.length !== steps) throw new RunFileError('run.metrics', `${run.metrics.length} steps; this replay says it recorded ${steps}`)
  run.metrics.forEach((m, i) => {
    if (m.step !== i + 1) throw new RunFileError(`run.metrics[${i}].step`, `got ${m.step}; expected ${i + 1} (steps 1 to ${steps} in order)`)
  })
  const kept = run.metrics.map((m) => m.step).filter((s) => keepsTrace(s, traceEvery))
  run.traces.forEach((t, i) => {
    if (t.step !== kept[i]) throw new RunFileError(`run.traces[${i}].step`, `got ${t.step}; expected ${kept[i] ?? 'no more traces'} (step 1 and every ${traceEvery}th)`)
  })
  if (run.traces.length !== kept.length) throw new RunFileError('run.traces', `${run.traces.length} traces; expected ${kept.length} (step 1 and every ${traceEvery}th of ${steps})`)
  run.evals.forEach((e, i) => {
    if (e.step < 1 || e.step > steps || (i > 0 && e.step <= run.evals[i - 1].step)) {
      throw new RunFileError(`run.evals[${i}].step`, `got ${e.step}; expected a recorded step (1 to ${steps}) after the evaluation before it`)
    }
  })
}

function worksheetGroupOf(w: unknown, field: string, run: RunFile): ReplayWorksheetGroup {
  if (!isObject(w)) throw new RunFileError(field, 'expected {step, group, logp}')
  const step = int(w.step, `${field}.step`, 1, MAX_STEPS)
  const trace = run.traces.find((t) => t.step === step)
  if (!trace) throw new RunFileError(`${field}.step`, `step ${step} has no trace in this replay; allowed: ${run.traces.map((t) => t.step).slice(0, 12).join(', ')}…`)
  const group = int(w.group, `${field}.group`, 0, trace.groups.length - 1)
  const completions = trace.groups[group].completions
  const rows = array(w.logp, `${field}.logp`, completions.length)
  if (rows.length !== completions.length) throw new RunFileError(`${field}.logp`, `${rows.length} completions; the group has ${completions.length}`)
  const logp = rows.map((r, ci) => array(r, `${field}.logp[${ci}]`, Math.min(MAX_TOKENS, run.config.max_completion_length)).map((x, t) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x > 0) throw new RunFileError(`${field}.logp[${ci}][${t}]`, 'expected a log-probability (a finite number ≤ 0)')
    return x
  }))
  return { step, group, logp }
}

/** The recorded worksheet inputs of a group, if the replay has them. */
export function replayLogprobs(replay: Replay, step: number, group: number): number[][] | null {
  return replay.worksheet.find((w) => w.step === step && w.group === group)?.logp ?? null
}

/** Where a preset's replay is served from, under the page's base URL. */
export const replayUrl = (preset: string, baseUrl: string) => `${baseUrl}replays/${preset}.json`
