// The run's curves, one chart per question a person asks of a GRPO run. Series that a run does
// not log (e.g. format_rate on the echo task) are left out. An overlay run (imported, or the
// previous run) is drawn dashed in the same colours.
import { useMemo } from 'react'
import type { EvalRecord } from '../../lab/runFile'
import type { Metrics } from '../../rl/trainer'
import { useLab } from '../../store/labStore'
import { type SeriesSpec, UPlotChart } from './UPlotChart'

const COLORS = ['#3a63d8', '#d8703a', '#2a9d5c', '#a63ad8', '#c9a227', '#d83a6b']

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

export function Charts() {
  const run = useLab((s) => s.run)
  const overlay = useLab((s) => s.overlay)
  const hidden = useLab((s) => s.hidden)
  const charts = useMemo(() => {
    const main = byStep(run?.metrics ?? [], run?.evals)
    const other = byStep(overlay?.metrics ?? [])
    const names = new Set<string>()
    for (const m of [...main.values(), ...other.values()]) for (const k of Object.keys(m)) names.add(k)
    const nameList = [...names]
    const last = Math.max(0, ...main.keys(), ...other.keys())
    const xs = Array.from({ length: last }, (_, i) => i + 1)
    return CHART_DEFS.map((def) => {
      const keys = def.keys(nameList).filter((k) => names.has(k.key) || names.size === 0)
      const series: SeriesSpec[] = []
      const data: (number | null)[][] = [xs]
      keys.forEach((k, i) => {
        series.push({ label: overlay ? `${k.label} (this run)` : k.label, color: COLORS[i % COLORS.length], points: k.points })
        data.push(xs.map((x) => finite(main.get(x)?.[k.key])))
      })
      if (overlay) keys.forEach((k, i) => {
        series.push({ label: `${k.label} (${overlay.name})`, color: COLORS[i % COLORS.length], dashed: true, points: k.points })
        data.push(xs.map((x) => finite(other.get(x)?.[k.key])))
      })
      return { def, series, data }
    })
  }, [run?.metrics, run?.evals, overlay])
  if (hidden.includes('charts')) return null
  return (
    <section aria-label="Charts" className="panel charts">
      <h2>Curves {overlay && <span className="overlay-note">— dashed: {overlay.name}</span>}</h2>
      <div className="chart-grid">
        {charts.map(({ def, series, data }) => (
          <UPlotChart key={def.id} label={`${def.id} chart`} title={def.title} series={series} data={data} />
        ))}
      </div>
    </section>
  )
}
