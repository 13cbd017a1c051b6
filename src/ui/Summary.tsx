// The last step's headline numbers, readable at a glance.
import { useLab } from '../store/labStore'
import { useHighlight } from './highlight'

const SHOWN: [string, string, (v: number) => string][] = [
  ['reward', 'Reward', (v) => v.toFixed(3)],
  ['accuracy', 'Accuracy', (v) => `${(v * 100).toFixed(1)}%`],
  ['completions/mean_length', 'Mean length', (v) => v.toFixed(1)],
  ['kl', 'KL', (v) => v.toPrecision(3)],
  ['entropy', 'Entropy', (v) => v.toFixed(3)],
  ['step_time', 'Seconds per step', (v) => v.toFixed(2)],
  ['readbacks', 'Readbacks per step', (v) => String(v)],
]

export function Summary() {
  const last = useLab((s) => s.run?.metrics.at(-1))
  const evalAcc = useLab((s) => s.run?.evals.at(-1)?.metrics['eval/accuracy'])
  const highlighted = useHighlight('Summary')
  return (
    <div className={`stats${highlighted}`} aria-label="Summary">
      {SHOWN.map(([key, label, f]) => (
        <div className="stat" key={key}>
          <div className="stat-label">{label}</div>
          <div className="stat-value" aria-label={label}>{last && Number.isFinite(last[key]) ? f(last[key]) : '–'}</div>
        </div>
      ))}
      {evalAcc !== undefined && (
        <div className="stat"><div className="stat-label">Eval accuracy</div><div className="stat-value" aria-label="Eval accuracy">{(evalAcc * 100).toFixed(1)}%</div></div>
      )}
      <details className="last-metrics">
        <summary>All metrics of the last step</summary>
        <pre aria-label="Last GRPO metrics">{last ? JSON.stringify(last, null, 1) : ''}</pre>
      </details>
    </div>
  )
}
