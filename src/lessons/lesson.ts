// A lesson: pages of text beside the lab, each able to drive the page (set knobs, choose a
// preset, press Step / Start / Pause / Reset, open the worksheet, show a trace step, outline a
// panel) and to ask a question checked against the live run. A lesson is a data file
// (public/lessons/<id>.json) fetched by the page: untrusted input, so every field is checked here
// and a bad one is named with what is allowed. Nothing in a lesson is ever run as code.
import { LESSON_ID } from '../lab/link'
import { presetById, PRESETS } from '../lab/presets'
import { parseUntrustedJson } from '../model/untrustedJson'
import { DEFAULT_RUN_CONFIG, resolvePartial, type RunConfig } from '../rl/config'
import { parseWorksheetInput } from '../rl/worksheet'

export interface Lesson {
  id: string
  title: string
  summary: string
  pages: LessonPage[]
}

export interface LessonPage {
  title: string
  /** paragraphs: plain text with `code`, **bold**, $inline$ and $$display$$ KaTeX; never HTML */
  text: string[]
  /** run in order when the page is entered */
  actions: LessonAction[]
  question?: LessonQuestion
}

export type Control = 'step' | 'start' | 'pause' | 'reset'

export type LessonAction =
  /** config keys laid over the controls' configuration (a run in progress keeps its own until Reset) */
  | { set: Partial<RunConfig> }
  | { preset: string }
  /** Step `times` times (each waits for its step to land), Start, Pause, Reset */
  | { press: Control; times: number }
  /** the worksheet on group `group` (1-based) of the latest step, on the first group whose rewards
   *  differ ('first-mixed'), or on numbers typed into its JSON box */
  | { worksheet: { group: number } | 'first-mixed' | { typed: unknown } }
  /** the trace viewer on a step (1-based) of the run, or following the latest */
  | { trace: number | 'latest' }
  /** outline one panel or chart (null: none) */
  | { highlight: string | null }

export type LessonQuestion = { prompt: string; hint?: string } & (
  /** which completion of the worksheet's group has the largest advantage (1-based, any of a tie) */
  | { kind: 'largest-advantage' }
  /** a metric of the run's latest step, within an absolute tolerance or a fraction of its value (`relative`) */
  | { kind: 'metric'; metric: string; tolerance: number; relative?: number }
  /** a fixed number (worked out by hand or read from the worksheet's typed example) */
  | { kind: 'number'; answer: number; tolerance: number }
  /** multiple choice: `answer` is the 1-based index of the right option */
  | { kind: 'choice'; options: string[]; answer: number }
)

export interface LessonIndexEntry { id: string; title: string; summary: string }


/** What a lesson may outline: the panels and charts by their aria-label. */
export const HIGHLIGHTS = [
  'Run controls', 'Configuration', 'Summary', 'Charts', 'Traces', 'GRPO worksheet',
  ...['Reward', 'Accuracy', 'Response length', 'Reasoning', 'Verification', 'Tries', 'KL', 'Entropy', 'Clip ratio',
    'Gradient norm', 'Learning rate', 'Loss', 'Behaviour'].map((c) => `${c} chart`),
] as const

export const QUESTION_KINDS = ['largest-advantage', 'metric', 'number', 'choice'] as const
const CONTROLS: readonly Control[] = ['step', 'start', 'pause', 'reset']
const ACTION_KINDS = ['set', 'preset', 'press', 'worksheet', 'trace', 'highlight']

/** A lesson file is a few kilobytes; these bound what a hostile one can make the page do. */
export const MAX_LESSON_CHARS = 256 * 1024
const MAX_PAGES = 40
const MAX_PARAGRAPHS = 20
const MAX_ACTIONS = 20
const MAX_STEP_PRESSES = 50
const MAX_OPTIONS = 8

export class LessonError extends Error {
  constructor(readonly field: string, message: string) { super(`${field}: ${message}`) }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60)

function onlyKeys(o: Record<string, unknown>, field: string, allowed: string[]): void {
  const odd = Object.keys(o).find((k) => !allowed.includes(k))
  if (odd !== undefined) throw new LessonError(`${field}.${odd.slice(0, 40)}`, `unknown key; allowed: ${allowed.join(', ')}`)
}

function text(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max) throw new LessonError(field, `expected text of 1 to ${max} characters, got ${shown(v)}`)
  return v
}

function integer(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new LessonError(field, `got ${shown(v)}; allowed: an integer from ${min} to ${max}`)
  return v
}

function finite(v: unknown, field: string, min = -1e9): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > 1e9) throw new LessonError(field, `got ${shown(v)}; allowed: a number from ${min} to 1e9`)
  return v
}

/** Paragraphs: an array of strings, or one string split at blank lines. */
function paragraphs(v: unknown, field: string): string[] {
  const list = typeof v === 'string' ? v.split(/\n\s*\n/) : v
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_PARAGRAPHS) {
    throw new LessonError(field, `expected 1 to ${MAX_PARAGRAPHS} paragraphs (an array of strings, or one string)`)
  }
  return list.map((p, i) => text(p, `${field}[${i}]`, 4000))
}

/** The configuration the lesson has built so far (from the defaults): a set is checked against it. */
interface Walk { config: RunConfig }

function actionOf(raw: unknown, field: string, walk: Walk): LessonAction {
  if (!isObject(raw)) throw new LessonError(field, `expected an object with one of: ${ACTION_KINDS.join(', ')}`)
  const kind = ACTION_KINDS.find((k) => Object.hasOwn(raw, k))
  if (!kind) throw new LessonError(field, `names no action; allowed: ${ACTION_KINDS.join(', ')}`)
  const v = raw[kind]
  const f = `${field}.${kind}`
  switch (kind) {
    case 'set': {
      onlyKeys(raw, field, ['set'])
      if (!isObject(v) || Object.keys(v).length === 0) throw new LessonError(f, 'expected an object of config keys to values, e.g. {"beta": 0.04}')
      // the same checks as a link's or the knobs': each value alone, then the cross-key rules
      const { config, problems } = resolvePartial(v, walk.config)
      if (problems.length) throw new LessonError(`${f}.${problems[0].key}`, problems[0].message.slice(problems[0].key.length + 2))
      walk.config = config
      return { set: v as Partial<RunConfig> }
    }
    case 'preset': {
      onlyKeys(raw, field, ['preset'])
      const p = typeof v === 'string' ? presetById(v) : undefined
      if (!p) throw new LessonError(f, `got ${shown(v)}; allowed: ${PRESETS.map((x) => x.id).join(', ')}`)
      walk.config = { ...DEFAULT_RUN_CONFIG, ...p.values, seed: walk.config.seed }
      return { preset: p.id }
    }
    case 'press': {
      onlyKeys(raw, field, ['press', 'times'])
      if (typeof v !== 'string' || !(CONTROLS as readonly string[]).includes(v)) throw new LessonError(f, `got ${shown(v)}; allowed: ${CONTROLS.join(', ')}`)
      if (raw.times !== undefined && v !== 'step') throw new LessonError(`${field}.times`, 'only "press": "step" takes times')
      const times = raw.times === undefined ? 1 : integer(raw.times, `${field}.times`, 1, MAX_STEP_PRESSES)
      return { press: v as Control, times }
    }
    case 'worksheet': {
      onlyKeys(raw, field, ['worksheet'])
      if (v === 'first-mixed') return { worksheet: v }
      if (isObject(v) && Object.hasOwn(v, 'group')) {
        onlyKeys(v, f, ['group'])
        return { worksheet: { group: integer(v.group, `${f}.group`, 1, 64) } }
      }
      if (isObject(v) && Object.hasOwn(v, 'typed')) {
        onlyKeys(v, f, ['typed'])
        // the worksheet's own checks, so that a teacher's numbers fail here rather than in class
        try { parseWorksheetInput(v.typed) } catch (e) { throw new LessonError(`${f}.typed`, (e as Error).message) }
        return { worksheet: { typed: v.typed } }
      }
      throw new LessonError(f, `got ${shown(v)}; allowed: {"group": <1-based group>}, "first-mixed", or {"typed": <worksheet JSON>}`)
    }
    case 'trace':
      onlyKeys(raw, field, ['trace'])
      return { trace: v === 'latest' ? v : integer(v, f, 1, DEFAULT_RUN_CONFIG.max_steps * 1000) }
    case 'highlight':
      onlyKeys(raw, field, ['highlight'])
      if (v !== null && !(HIGHLIGHTS as readonly unknown[]).includes(v)) throw new LessonError(f, `got ${shown(v)}; allowed: null (none), ${HIGHLIGHTS.join(', ')}`)
      return { highlight: v as string | null }
  }
  throw new LessonError(field, 'unreachable')
}

function questionOf(raw: unknown, field: string): LessonQuestion {
  if (!isObject(raw)) throw new LessonError(field, 'expected an object with prompt and kind')
  const prompt = text(raw.prompt, `${field}.prompt`, 1000)
  const hint = raw.hint === undefined ? {} : { hint: text(raw.hint, `${field}.hint`, 1000) }
  const base = ['prompt', 'hint', 'kind']
  switch (raw.kind) {
    case 'largest-advantage':
      onlyKeys(raw, field, base)
      return { prompt, ...hint, kind: raw.kind }
    case 'metric': {
      onlyKeys(raw, field, [...base, 'metric', 'tolerance', 'relative'])
      if (typeof raw.metric !== 'string' || !/^[\w/@.-]{1,80}$/.test(raw.metric)) {
        throw new LessonError(`${field}.metric`, `got ${shown(raw.metric)}; allowed: a metric name as the run logs it (letters, digits, _ / @ . -), e.g. "loss", "kl", "clip_ratio/region_mean"`)
      }
      const relative = raw.relative === undefined ? {} : { relative: finite(raw.relative, `${field}.relative`, 0) }
      return { prompt, ...hint, kind: raw.kind, metric: raw.metric, tolerance: finite(raw.tolerance, `${field}.tolerance`, 0), ...relative }
    }
    case 'number':
      onlyKeys(raw, field, [...base, 'answer', 'tolerance'])
      return { prompt, ...hint, kind: raw.kind, answer: finite(raw.answer, `${field}.answer`), tolerance: finite(raw.tolerance, `${field}.tolerance`, 0) }
    case 'choice': {
      onlyKeys(raw, field, [...base, 'options', 'answer'])
      if (!Array.isArray(raw.options) || raw.options.length < 2 || raw.options.length > MAX_OPTIONS) {
        throw new LessonError(`${field}.options`, `expected 2 to ${MAX_OPTIONS} options (strings)`)
      }
      const options = raw.options.map((o, i) => text(o, `${field}.options[${i}]`, 300))
      return { prompt, ...hint, kind: raw.kind, options, answer: integer(raw.answer, `${field}.answer`, 1, options.length) }
    }
    default:
      throw new LessonError(`${field}.kind`, `got ${shown(raw.kind)}; allowed: ${QUESTION_KINDS.join(', ')}`)
  }
}

function pageOf(raw: unknown, field: string, walk: Walk): LessonPage {
  if (!isObject(raw)) throw new LessonError(field, 'expected an object with title, text, and optionally actions and question')
  onlyKeys(raw, field, ['title', 'text', 'actions', 'question'])
  const actions = raw.actions === undefined ? [] : raw.actions
  if (!Array.isArray(actions) || actions.length > MAX_ACTIONS) throw new LessonError(`${field}.actions`, `expected an array of at most ${MAX_ACTIONS} actions`)
  return {
    title: text(raw.title, `${field}.title`, 200),
    text: paragraphs(raw.text, `${field}.text`),
    actions: actions.map((a, i) => actionOf(a, `${field}.actions[${i}]`, walk)),
    ...(raw.question === undefined ? {} : { question: questionOf(raw.question, `${field}.question`) }),
  }
}

/** Check a lesson (parsed JSON); throws LessonError naming the first bad field and what is allowed.
 *  `id`, when given, is the id the lesson was asked for: the file must say the same. */
export function parseLesson(json: unknown, id?: string): Lesson {
  if (!isObject(json)) throw new LessonError('lesson', 'expected a JSON object with id, title, summary, pages')
  onlyKeys(json, 'lesson', ['id', 'title', 'summary', 'pages'])
  if (typeof json.id !== 'string' || !LESSON_ID.test(json.id)) {
    throw new LessonError('id', `got ${shown(json.id)}; allowed: lower-case letters, digits and dashes (at most 40), as the file is named`)
  }
  if (id !== undefined && json.id !== id) throw new LessonError('id', `the file lessons/${id}.json says id ${shown(json.id)}; they must match`)
  if (!Array.isArray(json.pages) || json.pages.length === 0 || json.pages.length > MAX_PAGES) {
    throw new LessonError('pages', `expected 1 to ${MAX_PAGES} pages`)
  }
  const walk: Walk = { config: DEFAULT_RUN_CONFIG }
  return {
    id: json.id,
    title: text(json.title, 'title', 200),
    summary: text(json.summary, 'summary', 1000),
    pages: json.pages.map((p, i) => pageOf(p, `pages[${i}]`, walk)),
  }
}

/** A lesson file's text: size and nesting checked before JSON.parse, then parseLesson. */
export function parseLessonText(source: string, id?: string): Lesson {
  const parsed = parseUntrustedJson(source, { maxChars: MAX_LESSON_CHARS, maxDepth: 16, maxMembers: 256 })
  if ('error' in parsed) throw new LessonError('file', parsed.error)
  return parseLesson(parsed.value, id)
}

/** public/lessons/index.json: the lessons a page can open. */
export function parseLessonIndex(json: unknown): LessonIndexEntry[] {
  if (!Array.isArray(json) || json.length > 200) throw new LessonError('index', 'expected an array of {id, title, summary}')
  return json.map((e, i) => {
    const f = `index[${i}]`
    if (!isObject(e)) throw new LessonError(f, 'expected {id, title, summary}')
    onlyKeys(e, f, ['id', 'title', 'summary'])
    if (typeof e.id !== 'string' || !LESSON_ID.test(e.id)) throw new LessonError(`${f}.id`, `got ${shown(e.id)}; allowed: a lesson id`)
    return { id: e.id, title: text(e.title, `${f}.title`, 200), summary: text(e.summary, `${f}.summary`, 1000) }
  })
}

// ---------------------------------------------------------------------------------------------
// Checking an answer against the run: pure functions of the store's data, so the unit tests and
// the panel share them.

export type Verdict = { right: true; message: string } | { right: false; message: string }

/** The typed answer as a number (a decimal comma accepted), or null. */
export function answerNumber(typed: string): number | null {
  const t = typed.trim().replace(/^([+-]?\d*),(\d+)$/, '$1.$2').replace(/^−/, '-')
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return null
  return Number(t)
}

/** The 1-based completions of a group with the largest advantage (all of a tie). */
export function largestAdvantage(advantages: number[]): number[] {
  const max = Math.max(...advantages)
  return advantages.flatMap((a, i) => (Math.abs(a - max) <= 1e-6 ? [i + 1] : []))
}

/** The first group whose rewards are not all equal (0-based), else 0. */
export function firstMixedGroup(groups: { completions: { reward: number }[] }[]): number {
  const at = groups.findIndex((g) => g.completions.some((c) => c.reward !== g.completions[0].reward))
  return Math.max(0, at)
}

export interface LiveRun {
  /** the latest step's metrics */
  metrics?: Record<string, number>
  /** the advantages of the worksheet's group (its completions in order), if it shows one */
  advantages?: number[]
}

const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? String(Number(x.toPrecision(4))) : x.toExponential(3))

export function checkAnswer(q: LessonQuestion, typed: string, live: LiveRun): Verdict {
  if (q.kind === 'choice') {
    const pick = Number(typed)
    return pick === q.answer ? { right: true, message: 'Right.' } : { right: false, message: 'Not that one. Try again.' }
  }
  const x = answerNumber(typed)
  if (x === null) return { right: false, message: `“${typed.slice(0, 20)}” is not a number. Type a number, e.g. 0.25.` }
  switch (q.kind) {
    case 'number':
      return Math.abs(x - q.answer) <= q.tolerance ? { right: true, message: 'Right.' } : { right: false, message: 'Not quite. Try again.' }
    case 'metric': {
      const v = live.metrics?.[q.metric]
      if (!live.metrics) return { right: false, message: 'There is no step to read yet: press Step (or wait for this page’s step), then answer.' }
      if (v === undefined || !Number.isFinite(v)) return { right: false, message: `This run does not log ${q.metric} (or it is not a number at its latest step).` }
      return Math.abs(x - v) <= Math.max(q.tolerance, (q.relative ?? 0) * Math.abs(v))
        ? { right: true, message: `Right: ${q.metric} at the latest step is ${fmt(v)}.` }
        : { right: false, message: 'Not quite. Try again.' }
    }
    case 'largest-advantage': {
      if (!live.advantages) return { right: false, message: 'The worksheet shows no group of the run yet: press Step, then choose a group in the worksheet.' }
      const best = largestAdvantage(live.advantages)
      if (!Number.isInteger(x) || x < 1 || x > live.advantages.length) return { right: false, message: `Type a completion number from 1 to ${live.advantages.length}.` }
      return best.includes(x)
        ? { right: true, message: `Right: completion ${x} has the largest advantage, ${fmt(live.advantages[x - 1])}.` }
        : { right: false, message: `Completion ${x} has advantage ${fmt(live.advantages[x - 1])}; another one is larger. Try again.` }
    }
  }
}
