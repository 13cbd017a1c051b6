// A bar for anything that takes a while in the worker: loading a base model, building the
// model, evaluating. Unknown length shows an indeterminate bar.
import { useLab } from '../store/labStore'

export function ProgressBars() {
  const progress = useLab((s) => s.progress)
  const entries = Object.entries(progress)
  if (entries.length === 0) return null
  return (
    <div className="progress-bars">
      {entries.map(([task, p]) => (
        <div key={task} className="progress">
          <span>{p.label}</span>
          <progress aria-label={p.label} max={1} value={p.fraction ?? undefined} />
        </div>
      ))}
    </div>
  )
}
