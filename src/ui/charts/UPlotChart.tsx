// A uPlot line chart that streams: new data goes in with setData (no re-creation), the chart
// is rebuilt only when its series change. Hovering shows each series' value at that step in
// the legend. Pressing or dragging on the plot scrubs the step axis (onScrub: the trace viewer
// follows); `mark` draws the step the trace viewer shows as a vertical line.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { tickLabels } from './axes'
import { useHighlight } from '../highlight'

export interface SeriesSpec {
  label: string; color: string; dashed?: boolean; points?: boolean
  /** a dash pattern of its own (dashed: [6, 4]) */
  dash?: number[]
  /** what the chart's legend says, when the label is too long for it (compared runs: their number) */
  short?: string
}

interface Props {
  /** accessible name, e.g. "Reward chart" */
  label: string
  title: string
  series: SeriesSpec[]
  /** [x, ...one array per series], null where a series has no value */
  data: (number | null)[][]
  height?: number
  /** the step under the pointer while it is pressed on the plot (a click, or each move of a drag) */
  onScrub?: (step: number) => void
  /** a step to mark with a vertical line (the trace viewer's); null: none */
  mark?: number | null
}

/** A flat series (KL at β = 0, a constant learning rate) gets a small band around it, not 0–100. */
function yRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null) return [0, 1]
  if (max - min < 1e-12) {
    const pad = Math.abs(max) * 0.1 || 0.01
    return [min - pad, max + pad]
  }
  return uPlot.rangeNum(min, max, 0.1, true)
}

/** Each series' count of steps with a value, as JSON (what a test reads to see a curve fill). */
function filledOf(data: (number | null)[][]): string {
  return JSON.stringify(data.slice(1).map((ys) => ys.filter((y) => y !== null).length))
}

/** The mark: a thin vertical line across the plot at a step (drawn after the series). */
function drawMark(u: uPlot, step: number | null): void {
  if (step === null) return
  const x = u.valToPos(step, 'x', true)
  if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) return
  const ctx = u.ctx
  ctx.save()
  ctx.strokeStyle = '#555'
  ctx.lineWidth = 1
  ctx.setLineDash([2, 2])
  ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke()
  ctx.restore()
}

/** Press and drag on the plot: the nearest step under the pointer, on every move while pressed. */
function scrubbing(u: uPlot, onStep: (step: number) => void): () => void {
  const at = (e: PointerEvent) => {
    const left = u.over.getBoundingClientRect().left
    const v = u.posToVal(e.clientX - left, 'x')
    if (Number.isFinite(v)) onStep(Math.round(v))
  }
  const down = (e: PointerEvent) => { if (e.button !== 0) return; u.over.setPointerCapture(e.pointerId); at(e) }
  const move = (e: PointerEvent) => { if (u.over.hasPointerCapture(e.pointerId)) at(e) }
  u.over.addEventListener('pointerdown', down)
  u.over.addEventListener('pointermove', move)
  return () => { u.over.removeEventListener('pointerdown', down); u.over.removeEventListener('pointermove', move) }
}

export function UPlotChart({ label, title, series, data, height = 170, onScrub, mark = null }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const seriesKey = JSON.stringify(series)
  const highlighted = useHighlight(label)
  // the latest of each, read by the chart's handlers (a new closure must not rebuild the chart)
  const scrubRef = useRef(onScrub)
  scrubRef.current = onScrub
  const markRef = useRef(mark)
  markRef.current = mark

  useEffect(() => {
    const el = box.current
    if (!el) return
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth), height,
      legend: { live: true },
      // a drag scrubs the steps (the trace viewer follows) rather than zooming
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [(u: uPlot) => drawMark(u, markRef.current)] },
      scales: { x: { time: false }, y: { range: yRange } },
      axes: [{ label: 'step', size: 36, labelSize: 14 }, { size: 62, values: (_u: uPlot, splits: number[]) => tickLabels(splits) }],
      series: [
        { label: 'step' },
        ...series.map((s) => ({
          label: s.short ?? s.label, stroke: s.color, width: s.dashed ? 1.5 : 2, dash: s.dash ?? (s.dashed ? [6, 4] : undefined),
          spanGaps: true, points: { show: s.points ?? false, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3)),
        })),
      ],
    }
    const u = new uPlot(opts, data as uPlot.AlignedData, el)
    plot.current = u
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }))
    resize.observe(el)
    const stopScrubbing = scrubbing(u, (step) => scrubRef.current?.(step))
    return () => { stopScrubbing(); resize.disconnect(); u.destroy(); plot.current = null }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, height])

  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData) }, [data])
  useEffect(() => { plot.current?.redraw(false, false) }, [mark])

  return (
    <figure className={`chart-card${highlighted}`}>
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={label} data-points={data[0]?.length ?? 0} data-filled={filledOf(data)} data-series={seriesKey} data-mark={mark ?? ''} className="uplot-box" />
    </figure>
  )
}
