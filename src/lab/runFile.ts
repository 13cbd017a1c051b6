// A run as a file: its configuration, every step's metrics and traces, and evaluations. Export
// writes it; import checks every field (a file is untrusted input) and names what is wrong.
import { resolveRunConfig, type RunConfig } from '../rl/config'
import type { Metrics, TraceRecord } from '../rl/trainer'

export const RUN_FILE_FORMAT = 'grpo-lab/run'
export const RUN_FILE_VERSION = 1

export interface EvalRecord { step: number; metrics: Metrics }

export interface RunFile {
  format: typeof RUN_FILE_FORMAT
  version: number
  name: string
  config: RunConfig
  metrics: Metrics[]
  traces: TraceRecord[]
  evals: EvalRecord[]
}

export class RunFileError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message}`) }
}

export function makeRunFile(name: string, config: RunConfig, metrics: Metrics[], traces: TraceRecord[], evals: EvalRecord[]): RunFile {
  return { format: RUN_FILE_FORMAT, version: RUN_FILE_VERSION, name, config, metrics, traces, evals }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const MAX_STEPS = 100_000

function metricsOf(v: unknown, field: string): Metrics {
  if (!isObject(v)) throw new RunFileError(field, 'expected an object of metric names to numbers')
  const out: Metrics = {}
  for (const [k, x] of Object.entries(v)) {
    if (k.length > 80) throw new RunFileError(field, 'a metric name is longer than 80 characters')
    // JSON has no NaN: a metric of an empty set (e.g. length_correct with none correct) is null
    if (x === null) { out[k] = NaN; continue }
    if (typeof x !== 'number') throw new RunFileError(`${field}.${k.slice(0, 40)}`, `expected a number, got ${typeof x}`)
    out[k] = x
  }
  return out
}

function str(v: unknown, field: string, max = 10_000): string {
  if (typeof v !== 'string' || v.length > max) throw new RunFileError(field, `expected text of at most ${max} characters`)
  return v
}

function traceOf(v: unknown, field: string): TraceRecord {
  if (!isObject(v) || typeof v.step !== 'number' || !Array.isArray(v.groups)) throw new RunFileError(field, 'expected {step, groups[]}')
  return {
    step: v.step,
    groups: v.groups.map((g, gi) => {
      const gf = `${field}.groups[${gi}]`
      if (!isObject(g) || !Array.isArray(g.completions)) throw new RunFileError(gf, 'expected {prompt, answer, completions[]}')
      return {
        prompt: str(g.prompt, `${gf}.prompt`),
        answer: str(g.answer, `${gf}.answer`),
        completions: g.completions.map((c, ci) => {
          const cf = `${gf}.completions[${ci}]`
          if (!isObject(c)) throw new RunFileError(cf, 'expected an object')
          const num = (k: string) => {
            if (typeof c[k] !== 'number') throw new RunFileError(`${cf}.${k}`, 'expected a number')
            return c[k] as number
          }
          const bool = (k: string) => {
            if (typeof c[k] !== 'boolean') throw new RunFileError(`${cf}.${k}`, 'expected true or false')
            return c[k] as boolean
          }
          return {
            text: str(c.text, `${cf}.text`), rewards: metricsOf(c.rewards, `${cf}.rewards`), reward: num('reward'),
            advantage: num('advantage'), length: num('length'), truncated: bool('truncated'), correct: bool('correct'),
          }
        }),
      }
    }),
  }
}

/** Parse and check a run file's text; throws RunFileError naming the bad field. */
export function parseRunFile(text: string): RunFile {
  let raw: unknown
  try { raw = JSON.parse(text) } catch (e) { throw new RunFileError('file', `not JSON (${(e as Error).message.slice(0, 80)})`) }
  if (!isObject(raw)) throw new RunFileError('file', 'expected a JSON object')
  if (raw.format !== RUN_FILE_FORMAT) throw new RunFileError('format', `got ${JSON.stringify(raw.format)?.slice(0, 40)}; allowed: "${RUN_FILE_FORMAT}" (a file from Export run)`)
  if (raw.version !== RUN_FILE_VERSION) throw new RunFileError('version', `got ${JSON.stringify(raw.version)?.slice(0, 20)}; this lab reads version ${RUN_FILE_VERSION}`)
  if (!isObject(raw.config)) throw new RunFileError('config', 'expected an object')
  let config: RunConfig
  try { config = resolveRunConfig(raw.config) } catch (e) { throw new RunFileError('config', (e as Error).message) }
  for (const k of ['metrics', 'traces', 'evals'] as const) {
    if (!Array.isArray(raw[k])) throw new RunFileError(k, 'expected an array')
    if ((raw[k] as unknown[]).length > MAX_STEPS) throw new RunFileError(k, `more than ${MAX_STEPS} entries`)
  }
  return {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    name: raw.name === undefined ? 'imported run' : str(raw.name, 'name', 200),
    config,
    metrics: (raw.metrics as unknown[]).map((m, i) => metricsOf(m, `metrics[${i}]`)),
    traces: (raw.traces as unknown[]).map((t, i) => traceOf(t, `traces[${i}]`)),
    evals: (raw.evals as unknown[]).map((e, i) => {
      if (!isObject(e) || typeof e.step !== 'number') throw new RunFileError(`evals[${i}]`, 'expected {step, metrics}')
      return { step: e.step, metrics: metricsOf(e.metrics, `evals[${i}].metrics`) }
    }),
  }
}

/**
 * A text field of a CSV file: quoted as RFC 4180 says when it holds a comma, a quote or a line
 * break, and with a ' in front when a spreadsheet would run it as a formula (=, +, -, @, tab, CR
 * first: an imported run file's metric names are anyone's text).
 */
function csvText(text: string): string {
  const inert = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text
  return /[",\r\n]/.test(inert) ? `"${inert.replace(/"/g, '""')}"` : inert
}

/** Metrics as CSV (RFC 4180, CRLF): one row per step, one column per metric name seen in any step. */
export function metricsCsv(metrics: Metrics[]): string {
  const names: string[] = []
  for (const m of metrics) for (const k of Object.keys(m)) if (!names.includes(k)) names.push(k)
  const cell = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : String(v))
  const rows = [names.map(csvText), ...metrics.map((m) => names.map((k) => cell(m[k])))]
  return rows.map((r) => r.join(',') + '\r\n').join('')
}
