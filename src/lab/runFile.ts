// A run as a file: its configuration, every step's metrics and traces, and evaluations. Export
// writes it; import checks every field (a file is untrusted input) and names what is wrong.
import { parseUntrustedJson } from '../model/untrustedJson'
import { DEFAULT_RUN_CONFIG, resolveRunConfig, type RunConfig, RunConfigError } from '../rl/config'
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
const MAX_STEPS = 100_000 // max_steps' largest value
/** The largest run file Import reads: a 300-step default run with traces is about 6 MB (estimated:
 *  64 completions of at most 80 characters a step). Parsing 64 MiB of hostile JSON (many distinct
 *  keys) takes seconds; 200 MiB could freeze the page for a minute. */
export const MAX_RUN_FILE_BYTES = 64 * 1024 * 1024
/** A run file nests 8 levels (file → traces → groups → completions → rewards); anything deeper is not one. */
const MAX_DEPTH = 16
const MAX_METRICS = 256
/** Members of any one object: a config has ~40, metrics at most MAX_METRICS */
const MAX_MEMBERS = 1024
const MAX_GROUPS = 1024
const MAX_COMPLETIONS = 64 // num_generations' largest value

function list(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new RunFileError(field, 'expected an array')
  if (v.length > max) throw new RunFileError(field, `${v.length} entries; allowed: at most ${max}`)
  return v
}

function stepOf(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_STEPS) throw new RunFileError(field, `expected an integer from 0 to ${MAX_STEPS}`)
  return v
}

function finite(v: unknown, field: string): number {
  // 1e400 is valid JSON and parses to Infinity
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RunFileError(field, `expected a finite number, got ${v === null ? 'null' : typeof v === 'number' ? v : typeof v}`)
  return v
}

function metricsOf(v: unknown, field: string): Metrics {
  if (!isObject(v)) throw new RunFileError(field, 'expected an object of metric names to numbers')
  const entries = Object.entries(v)
  if (entries.length > MAX_METRICS) throw new RunFileError(field, `${entries.length} metrics; allowed: at most ${MAX_METRICS}`)
  // fromEntries: a metric named "__proto__" stays a metric, never the object's prototype
  return Object.fromEntries(entries.map(([k, x]) => {
    if (k.length > 80) throw new RunFileError(field, 'a metric name is longer than 80 characters')
    // JSON has no NaN: a metric of an empty set (e.g. length_correct with none correct) is null
    return [k, x === null ? NaN : finite(x, `${field}.${k}`)]
  }))
}

function str(v: unknown, field: string, max = 10_000): string {
  if (typeof v !== 'string' || v.length > max) throw new RunFileError(field, `expected text of at most ${max} characters`)
  return v
}

function traceOf(v: unknown, field: string): TraceRecord {
  if (!isObject(v)) throw new RunFileError(field, 'expected {step, groups[]}')
  return {
    step: stepOf(v.step, `${field}.step`),
    groups: list(v.groups, `${field}.groups`, MAX_GROUPS).map((g, gi) => {
      const gf = `${field}.groups[${gi}]`
      if (!isObject(g)) throw new RunFileError(gf, 'expected {prompt, answer, completions[]}')
      return {
        prompt: str(g.prompt, `${gf}.prompt`),
        answer: str(g.answer, `${gf}.answer`),
        completions: list(g.completions, `${gf}.completions`, MAX_COMPLETIONS).map((c, ci) => {
          const cf = `${gf}.completions[${ci}]`
          if (!isObject(c)) throw new RunFileError(cf, 'expected an object')
          const num = (k: string) => finite(c[k], `${cf}.${k}`)
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

/** A run configuration read from a file: resolveRunConfig's checks, after refusing keys no
 *  configuration has (quoted and cut short: a file's key can be empty, or megabytes long). */
export function configFromFile(raw: Record<string, unknown>): RunConfig {
  const odd = Object.keys(raw).find((k) => !Object.hasOwn(DEFAULT_RUN_CONFIG, k))
  if (odd !== undefined) {
    throw new RunConfigError(JSON.stringify(odd.slice(0, 40)), `unknown key; allowed keys: ${Object.keys(DEFAULT_RUN_CONFIG).join(', ')}`)
  }
  return resolveRunConfig(raw)
}

/** The JSON text of a file the lab writes (a run file, a replay), parsed within its size and the
 *  shared depth and member limits; throws RunFileError('file', …) when it is not such JSON. */
export function parseLabFileText(text: string, maxChars: number): unknown {
  const parsed = parseUntrustedJson(text, { maxChars, maxDepth: MAX_DEPTH, maxMembers: MAX_MEMBERS })
  if ('error' in parsed) throw new RunFileError('file', parsed.error)
  return parsed.value
}

/** A lab file's object with its format and version checked; `madeBy` names what writes that format. */
export function labFileObject(v: unknown, format: string, version: number, madeBy: string): Record<string, unknown> {
  if (!isObject(v)) throw new RunFileError('file', 'expected a JSON object')
  if (v.format !== format) throw new RunFileError('format', `got ${JSON.stringify(v.format)?.slice(0, 40)}; allowed: "${format}" (a file from ${madeBy})`)
  if (v.version !== version) throw new RunFileError('version', `got ${JSON.stringify(v.version)?.slice(0, 20)}; this lab reads version ${version}`)
  return v
}

/** Parse and check a run file's text; throws RunFileError naming the bad field. */
export function parseRunFile(text: string): RunFile {
  return runFileOf(parseLabFileText(text, MAX_RUN_FILE_BYTES))
}

/** A run file's checks on a value already parsed (a replay holds one: src/lab/replay.ts). */
export function runFileOf(value: unknown): RunFile {
  const raw = labFileObject(value, RUN_FILE_FORMAT, RUN_FILE_VERSION, 'Export run')
  if (!isObject(raw.config)) throw new RunFileError('config', 'expected an object')
  let config: RunConfig
  try { config = configFromFile(raw.config) } catch (e) { throw new RunFileError('config', (e as Error).message) }
  return {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    name: raw.name === undefined ? 'imported run' : str(raw.name, 'name', 200),
    config,
    metrics: list(raw.metrics, 'metrics', MAX_STEPS).map((m, i) => metricsOf(m, `metrics[${i}]`)),
    traces: list(raw.traces, 'traces', MAX_STEPS).map((t, i) => traceOf(t, `traces[${i}]`)),
    evals: list(raw.evals, 'evals', MAX_STEPS).map((e, i) => {
      if (!isObject(e)) throw new RunFileError(`evals[${i}]`, 'expected {step, metrics}')
      return { step: stepOf(e.step, `evals[${i}].step`), metrics: metricsOf(e.metrics, `evals[${i}].metrics`) }
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
