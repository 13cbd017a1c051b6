// A small SVG line chart of the loss per step (the full lab uses a charting library).
interface Props { values: number[]; label: string }

export function LossChart({ values, label }: Props) {
  const W = 480; const H = 160; const pad = 28
  const max = Math.max(1e-9, ...values)
  const n = Math.max(2, values.length)
  const points = values.map((v, i) => `${pad + (i / (n - 1)) * (W - pad - 8)},${8 + (1 - v / max) * (H - pad - 8)}`).join(' ')
  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${W} ${H}`} className="chart" data-points={values.length}>
      <line x1={pad} y1={H - pad} x2={W - 8} y2={H - pad} className="axis" />
      <line x1={pad} y1={8} x2={pad} y2={H - pad} className="axis" />
      <text x={4} y={14} className="tick">{max.toFixed(2)}</text>
      <text x={4} y={H - pad} className="tick">0</text>
      <text x={W - 60} y={H - 8} className="tick">step {values.length}</text>
      {values.length > 1 && <polyline points={points} className="line" />}
    </svg>
  )
}
