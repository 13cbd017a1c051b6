// Share links: the run configuration in the URL fragment (never sent to a server), readable
// by a person: `#v=1&task=addition&seed=7&num_generations=8`. Only values that differ from the
// defaults are written. Parsing never executes anything: each value is converted by its key's
// type and checked against its range; a bad key or value is reported and left at its default.

import { checkValue, type ConfigProblem, defaultsGiven, resolvePartial, RUN_CONFIG_SPEC, type RunConfig } from '../rl/config'

export const LINK_VERSION = 1

export type LinkProblem = ConfigProblem

export interface ParsedLink {
  /** the keys the link set, checked one by one */
  values: Partial<RunConfig>
  /** every key or value that was refused, with why */
  problems: LinkProblem[]
  /** lesson links: the controls to hide (`<key>_hide=1`), config keys or panel names */
  hidden: string[]
  /** `autostart=1`: start the run as soon as the lab is ready */
  autostart: boolean
  /** `lesson=<id>`: the lesson to open beside the lab (an id from public/lessons/, never code) */
  lesson: string | null
  /** `replay=1`: show the recorded run of this link's lesson or preset instead of training live */
  replay: boolean
}

/** What a link carries besides the run configuration. */
export interface LinkExtras { hidden?: readonly string[]; autostart?: boolean; lesson?: string | null; replay?: boolean }

/** A lesson id: lower-case letters, digits and dashes, as the files in public/lessons/ are named. */
export const LESSON_ID = /^[a-z0-9][a-z0-9-]{0,39}$/

/** Panels a lesson link may hide besides single config keys. */
export const HIDEABLE_PANELS = ['preset', 'knobs', 'worksheet', 'traces', 'charts', 'export'] as const

const FLAG_ALLOWED = '1 (or 0 / absent)'

/** The fragment of a URL, or the text itself when it is already a fragment or a query. */
function fragmentOf(text: string): string {
  const hash = text.indexOf('#')
  if (hash >= 0) return text.slice(hash + 1)
  return text.replace(/^[?]/, '')
}

function convert(key: string, raw: string): unknown {
  const spec = (RUN_CONFIG_SPEC as Record<string, { kind: string }>)[key]
  switch (spec?.kind) {
    case 'int': case 'float': return raw.trim() === '' ? NaN : Number(raw)
    case 'bool': return raw === 'true' ? true : raw === 'false' ? false : raw
    case 'floats': return raw === '' ? [] : raw.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)))
    default: return raw
  }
}

export function parseLink(text: string): ParsedLink {
  const values: Record<string, unknown> = {}
  const problems: LinkProblem[] = []
  const hidden: string[] = []
  let autostart = false
  let lesson: string | null = null
  let replay = false
  const params = new URLSearchParams(fragmentOf(text.trim()))
  const version = params.get('v')
  if (version !== null && version !== String(LINK_VERSION)) {
    problems.push({ key: 'v', message: `link version ${JSON.stringify(version.slice(0, 20))} is not supported; this lab reads version ${LINK_VERSION}` })
    return { values: {}, problems, hidden, autostart, lesson, replay }
  }
  for (const [key, raw] of params) {
    if (key === 'v') continue
    if (key.endsWith('_hide')) { // lesson links: which controls to hide
      const what = key.slice(0, -'_hide'.length)
      if (!Object.hasOwn(RUN_CONFIG_SPEC, what) && !(HIDEABLE_PANELS as readonly string[]).includes(what)) {
        problems.push({ key: key.slice(0, 40), message: `${key.slice(0, 40)}: nothing named ${JSON.stringify(what.slice(0, 30))} can be hidden; allowed: <config key>_hide or ${HIDEABLE_PANELS.map((p) => p + '_hide').join(', ')}` })
      } else if (raw !== '1' && raw !== '0') {
        problems.push({ key: key.slice(0, 40), message: `${key.slice(0, 40)}: got ${JSON.stringify(raw.slice(0, 20))}; allowed: ${FLAG_ALLOWED}` })
      } else if (raw === '1' && !hidden.includes(what)) hidden.push(what)
      continue
    }
    if (key === 'autostart' || key === 'replay') {
      if (raw === '1' || raw === '0') { if (key === 'autostart') autostart = raw === '1'; else replay = raw === '1' }
      else problems.push({ key, message: `${key}: got ${JSON.stringify(raw.slice(0, 20))}; allowed: ${FLAG_ALLOWED}` })
      continue
    }
    if (key === 'lesson') {
      if (LESSON_ID.test(raw)) lesson = raw
      else problems.push({ key, message: `lesson: got ${JSON.stringify(raw.slice(0, 40))}; allowed: a lesson id (lower-case letters, digits and dashes, at most 40)` })
      continue
    }
    // each value alone first, so that a later bad duplicate of a key leaves the earlier good one
    try {
      values[key] = checkValue(key, convert(key, raw))
    } catch (e) {
      problems.push({ key: key.slice(0, 40), message: (e as Error).message })
    }
  }
  // cross-key rules: refuse the link's own keys, one at a time, until the rest resolve
  const resolved = resolvePartial(values)
  problems.push(...resolved.problems)
  return { values: resolved.kept, problems, hidden, autostart, lesson, replay }
}

function format(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v)
}

/** The fragment for a configuration: version first, the seed, then only what differs from the defaults. */
export function encodeLink(config: RunConfig, hidden: readonly string[] = [], autostart = false, extras: Omit<LinkExtras, 'hidden' | 'autostart'> = {}): string {
  const parts = [`v=${LINK_VERSION}`]
  // what the parser will assume for a key the link leaves out (epsilon_high follows a written epsilon)
  const implied = defaultsGiven(config)
  for (const key of Object.keys(RUN_CONFIG_SPEC) as (keyof RunConfig)[]) {
    // the seed is always written: a link names one exact run
    if (key === 'seed' || format(config[key]) !== format(implied[key])) parts.push(`${key}=${encodeURIComponent(format(config[key]))}`)
  }
  for (const h of hidden) parts.push(`${encodeURIComponent(h)}_hide=1`)
  if (autostart) parts.push('autostart=1')
  if (extras.lesson) parts.push(`lesson=${encodeURIComponent(extras.lesson)}`)
  if (extras.replay) parts.push('replay=1')
  return '#' + parts.join('&')
}
