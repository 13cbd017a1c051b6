// The run's curves, one chart per question a person asks of a GRPO run. Series that a run does
// not log (e.g. format_rate on the echo task) are left out. Runs compared with the shown one
// (src/lab/compare.ts) are drawn on the same charts: then each run has a colour and each of a
// chart's series a dash, and the legend names each run by what it changes from the first.
// Pressing or dragging on any chart moves the trace viewer to that step of the shown run.
import { useMemo } from 'react'
import { compareNames, type ComparedRun, drawnRuns, stepIndex } from '../../lab/compare'
import type { EvalRecord } from '../../lab/runFile'
import type { Metrics } from '../../rl/trainer'
import { useLab } from '../../store/labStore'
import { useHighlight } from '../highlight'
import { CompareTable } from './CompareTable'
import { type SeriesSpec, UPlotChart } from './UPlotChart'

const COLORS = ['#3a63d8', '#d8703a', '#2a9d5c', '#a63ad8', '#c9a227', '#d83a6b']
/** Compared runs: a colour each (as many as MAX_COMPARED), and a dash per series of a chart. */
export const RUN_COLORS = ['#3a63d8', '#d8703a', '#2a9d5c', '#a63ad8', '#8a6d00', '#d83a6b', '#333333']
const KEY_DASHES: (number[] | undefined)[] = [undefined, [6, 4], [2, 3], [10, 3, 2, 3]]

interface ChartDef { id: string; title: string; keys: (metricNames: string[]) => { key: string; label: string; points?: boolean }[] }

const fixed = (...pairs: [string, string][]) => () => pairs.map(([key, label]) => ({ key, label }))

export const CHART_DEFS: ChartDef[] = [
  { id: 'Reward', title: 'Reward (total and per reward function)', keys: (names) => [
    { key: 'reward', label: 'reward' },
    ...names.filter((n) => /^rewards\/.+\/mean$/.test(n)).map((n) => ({ key: n, label: n.slice(8, -5) })),
  ] },
  { id: 'Accuracy', title: 'Accuracy and format', keys: () => [
    { key: 'accuracy', label: 'accuracy' }, { key: 'format_rate', label: 'format' }, { key: 'eval/accuracy', label: 'eval accuracy', points: true },
  ] },
  { id: 'Response length', title: 'Response length (mean, correct vs incorrect)', keys: fixed(
    ['completions/mean_length', 'mean'], ['length_correct', 'correct'], ['length_incorrect', 'incorrect']) },
  { id: 'Reasoning', title: 'Reasoning: share that tries again, checks, says "wait"', keys: fixed(
    ['reflection/try_rate', 'try'], ['reflection/check_rate', 'check'], ['reflection/wait_rate', 'wait']) },
  { id: 'Verification', title: 'Verified answers, and accuracy verified vs unverified', keys: fixed(
    ['verified_rate', 'verified'], ['accuracy/verified', 'accuracy verified'], ['accuracy/unverified', 'accuracy unverified']) },
  { id: 'Tries', title: 'Answers tried per completion (mean)', keys: fixed(['reasoning/tries_mean', 'tries']) },
  { id: 'KL', title: 'KL to the reference (k3)', keys: fixed(['kl', 'kl']) },
  { id: 'Entropy', title: 'Entropy of the policy', keys: fixed(['entropy', 'entropy']) },
  { id: 'Clip ratio', title: 'Clip ratios', keys: fixed(['clip_ratio/low_mean', 'low'], ['clip_ratio/high_mean', 'high'], ['clip_ratio/region_mean', 'region']) },
  { id: 'Gradient norm', title: 'Gradient norm (before clipping)', keys: fixed(['grad_norm', 'grad_norm']) },
  { id: 'Learning rate', title: 'Learning rate', keys: fixed(['learning_rate', 'learning_rate']) },
  { id: 'Loss', title: 'Loss (see the worksheet for why it can read 0)', keys: fixed(['loss', 'loss']) },
  { id: 'Behaviour', title: 'Reflection, truncation, zero-std groups', keys: fixed(
    ['reflection_rate', 'reflection'], ['completions/clipped_ratio', 'truncated'], ['frac_reward_zero_std', 'zero-std']) },
]

/** Metric rows by step, evaluations merged in. */
function byStep(metrics: Metrics[], evals: EvalRecord[] = []): Map<number, Metrics> {
  const out = new Map<number, Metrics>()
  for (const m of metrics) out.set(m.step, m)
  for (const e of evals) out.set(e.step, { ...out.get(e.step), ...e.metrics })
  return out
}

const finite = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v)

/** Every chart's series and data for the runs drawn (one run: a colour per series, as before any comparison). */
function chartsOf(runs: ComparedRun[], names: string[]) {
  const rows = runs.map((r) => byStep(r.metrics, r.evals))
  const keysOf = rows.map((m) => { const k = new Set<string>(); for (const row of m.values()) for (const n of Object.keys(row)) k.add(n); return k })
  const all = new Set(keysOf.flatMap((k) => [...k]))
  const nameList = [...all]
  const last = Math.max(0, ...rows.flatMap((m) => [...m.keys()]))
  const xs = Array.from({ length: last }, (_, i) => i + 1)
  const comparing = runs.length > 1
  return CHART_DEFS.map((def) => {
    const keys = def.keys(nameList).filter((k) => all.has(k.key) || all.size === 0)
    const series: SeriesSpec[] = []
    const data: (number | null)[][] = [xs]
    runs.forEach((_, ri) => keys.forEach((k, ki) => {
      if (comparing && !keysOf[ri].has(k.key)) return // a series this run does not log
      series.push(comparing
        ? { label: `${k.label} (${names[ri]})`, short: `${k.label} · ${ri + 1}`, color: RUN_COLORS[ri % RUN_COLORS.length], dash: KEY_DASHES[ki % KEY_DASHES.length], points: k.points }
        : { label: k.label, color: COLORS[ki % COLORS.length], points: k.points })
      data.push(xs.map((x) => finite(rows[ri].get(x)?.[k.key])))
    }))
    return { def, series, data }
  })
}

/** Scrubbing a chart: the trace viewer shows that step of the shown run (its last: follow the latest). */
function scrubTo(step: number): void {
  const { run, setTraceIndex } = useLab.getState()
  if (!run?.metrics.length) return
  const i = stepIndex(run.metrics, step)
  setTraceIndex(i >= run.metrics.length - 1 ? null : i)
}

export function Charts() {
  const run = useLab((s) => s.run)
  const compared = useLab((s) => s.compared)
  const hidden = useLab((s) => s.hidden)
  const traceIndex = useLab((s) => s.traceIndex)
  const runs = useMemo(() => drawnRuns<ComparedRun>(compared, run), [compared, run])
  const names = useMemo(() => compareNames(runs), [runs])
  const charts = useMemo(() => chartsOf(runs, names), [runs, names])
  const highlighted = useHighlight('Charts')
  if (hidden.includes('charts')) return null
  const mark = traceIndex === null ? null : run?.metrics[Math.min(traceIndex, run.metrics.length - 1)]?.step ?? null
  return (
    <section aria-label="Charts" className={`panel charts${highlighted}`}>
      <h2>Curves</h2>
      {runs.length > 1 && (
        <ul aria-label="Runs on the charts" className="run-legend">
          {runs.map((r, i) => (
            <li key={r.id}><span className="run-swatch" style={{ background: RUN_COLORS[i % RUN_COLORS.length] }} /> <b>{i + 1}</b> {names[i]}
              {i === 0 && <span className="hint"> ({r.name})</span>}</li>
          ))}
          <li className="hint">in a chart's legend, “reward · 2” is run 2's reward; a chart's first series is solid, its second dashed, its third dotted</li>
        </ul>
      )}
      <p className="hint">Press or drag on a chart to show that step in the traces.</p>
      <div className="chart-grid">
        {charts.map(({ def, series, data }) => (
          <UPlotChart key={def.id} label={`${def.id} chart`} title={def.title} series={series} data={data} onScrub={scrubTo} mark={mark} />
        ))}
      </div>
      <CompareTable runs={runs} names={names} />
    </section>
  )
}
