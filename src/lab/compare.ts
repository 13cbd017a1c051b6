// Runs side by side: the list of runs kept in the page for comparison (live, saved, imported,
// replayed: any run with a config and its metrics), each named by what it changes from the
// first run's configuration, as Sequence Toy names its runs, and their final figures.
// Pure: the store keeps the list, the charts and the table draw it.
import type { Metrics } from '../rl/trainer'
import { RUN_CONFIG_SPEC, type RunConfig } from '../rl/config'
import type { EvalRecord } from './runFile'

/** What a run needs to be compared: the store's RunView (any source) fits as it is. */
export interface ComparedRun {
  id: string
  name: string
  config: RunConfig
  metrics: Metrics[]
  evals: EvalRecord[]
  /** where it came from: 'live', 'saved', 'imported', 'replay' … (shown in the table) */
  source: string
}

/** More runs than this make the charts unreadable; the oldest after the baseline gives way. */
export const MAX_COMPARED = 6

export interface ConfigChange { key: keyof RunConfig; from: string; to: string }

const shown = (v: unknown) => (Array.isArray(v) ? (v.length ? v.join(',') : '(defaults)') : v === '' ? '(none)' : String(v))

/** The keys whose values differ between two configurations, in the spec's order (as links write them). */
export function configChanges(base: RunConfig, other: RunConfig): ConfigChange[] {
  const out: ConfigChange[] = []
  for (const key of Object.keys(RUN_CONFIG_SPEC) as (keyof RunConfig)[]) {
    const from = shown(base[key]), to = shown(other[key])
    if (from !== to) out.push({ key, from, to })
  }
  return out
}

/** Changes named in a run's short name; the rest are counted ("+2 more") and listed in changeList. */
const NAMED_CHANGES = 3

export const changeList = (changes: ConfigChange[]) => changes.map((c) => `${c.key}: ${c.from}→${c.to}`).join(', ')

/**
 * A run's name beside the first: what its configuration changes
 * (`loss_type: grpo→dr_grpo, scale_rewards: group→none`), "same config, seed 1→2" when only the
 * seed differs, and "same config" (with the run's own name, when it has another) when nothing does.
 */
export function changeName(base: { name: string; config: RunConfig }, run: { name: string; config: RunConfig }): string {
  const changes = configChanges(base.config, run.config)
  if (changes.length === 0) return run.name && run.name !== base.name ? `same config: ${run.name}` : 'same config'
  if (changes.length === 1 && changes[0].key === 'seed') return `same config, seed ${changes[0].from}→${changes[0].to}`
  const named = changeList(changes.slice(0, NAMED_CHANGES))
  return changes.length > NAMED_CHANGES ? `${named} +${changes.length - NAMED_CHANGES} more` : named
}

/** Every run's name: the first is "baseline", each other one names its change from it; a name
 *  that repeats (two runs of one change) gets "#2", "#3" so that no two legend entries read alike. */
export function compareNames(runs: readonly { name: string; config: RunConfig }[]): string[] {
  const seen = new Map<string, number>()
  return runs.map((r, i) => {
    const name = i === 0 ? 'baseline' : changeName(runs[0], r)
    const n = (seen.get(name) ?? 0) + 1
    seen.set(name, n)
    return n > 1 ? `${name} #${n}` : name
  })
}

/**
 * Add a run to the list (or refresh it, when one with its id is there): at the end, so that the
 * first stays the baseline. Past `max` the oldest after the baseline is dropped.
 */
export function addCompared<T extends ComparedRun>(list: readonly T[], run: T, max = MAX_COMPARED): T[] {
  const at = list.findIndex((r) => r.id === run.id)
  if (at >= 0) return list.map((r, i) => (i === at ? run : r))
  const out = [...list, run]
  while (out.length > Math.max(1, max)) out.splice(1, 1)
  return out
}

/**
 * Add `run` to the comparison of the shown run: the shown run joins the list first when it is not
 * in it (with none compared it becomes the baseline), so that it keeps its place, colour and name
 * as more runs are added. A shown run without steps yet has nothing to compare.
 */
export function compareWith<T extends ComparedRun>(list: readonly T[], shownRun: T | null, run: T, max = MAX_COMPARED): T[] {
  const keepShown = shownRun && shownRun.id !== run.id && shownRun.metrics.length > 0 && !list.some((r) => r.id === shownRun.id)
  return addCompared(keepShown ? addCompared(list, shownRun, max) : list, run, max)
}

export function removeCompared<T extends ComparedRun>(list: readonly T[], id: string): T[] {
  return list.filter((r) => r.id !== id)
}

/**
 * The runs drawn: the compared ones, the shown run standing in for its own entry (its steps keep
 * arriving), and the shown run at the end when it is not in the list (it is always drawn: the
 * trace viewer and the chart cursor follow it).
 */
export function drawnRuns<T extends ComparedRun>(list: readonly T[], shownRun: T | null): T[] {
  const out = list.map((r) => (shownRun && r.id === shownRun.id ? shownRun : r))
  if (shownRun && !list.some((r) => r.id === shownRun.id)) out.push(shownRun)
  return out
}

export interface FinalFigures {
  steps: number
  /** the last step's figures; null where the run does not log them (or logged NaN) */
  reward: number | null
  accuracy: number | null
  /** the last evaluation's held-out pass@1 (else its accuracy); null without an evaluation */
  evalPass: number | null
  meanLength: number | null
  kl: number | null
}

const finite = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** A run's figures at its last step, for the table beside the charts. */
export function finalFigures(run: Pick<ComparedRun, 'metrics' | 'evals'>): FinalFigures {
  const last = run.metrics.at(-1) ?? {}
  const ev = run.evals.at(-1)?.metrics ?? {}
  return {
    steps: finite(last.step) ?? 0,
    reward: finite(last.reward),
    accuracy: finite(last.accuracy),
    evalPass: finite(ev['eval/pass@1']) ?? finite(ev['eval/accuracy']),
    meanLength: finite(last['completions/mean_length']),
    kl: finite(last.kl),
  }
}

/**
 * The index into `metrics` of the step a chart was scrubbed to: that step, else the last one
 * before it (a run with gaps, or one that is shorter than another drawn beside it); 0 before the first.
 */
export function stepIndex(metrics: readonly Metrics[], step: number): number {
  let best = 0
  for (let i = 0; i < metrics.length; i++) if (metrics[i].step <= step) best = i
  return best
}
