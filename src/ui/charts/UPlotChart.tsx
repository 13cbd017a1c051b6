// A uPlot line chart that streams: new data goes in with setData (no re-creation), the chart
// is rebuilt only when its series change. Hovering shows each series' value at that step in
// the legend.
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { tickLabels } from './axes'

export interface SeriesSpec { label: string; color: string; dashed?: boolean; points?: boolean }

interface Props {
  /** accessible name, e.g. "Reward chart" */
  label: string
  title: string
  series: SeriesSpec[]
  /** [x, ...one array per series], null where a series has no value */
  data: (number | null)[][]
  height?: number
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

export function UPlotChart({ label, title, series, data, height = 170 }: Props) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const seriesKey = JSON.stringify(series)

  useEffect(() => {
    const el = box.current
    if (!el) return
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth), height,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, y: { range: yRange } },
      axes: [{ label: 'step', size: 36, labelSize: 14 }, { size: 62, values: (_u: uPlot, splits: number[]) => tickLabels(splits) }],
      series: [
        { label: 'step' },
        ...series.map((s) => ({
          label: s.label, stroke: s.color, width: s.dashed ? 1.5 : 2, dash: s.dashed ? [6, 4] : undefined,
          spanGaps: true, points: { show: s.points ?? false, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3)),
        })),
      ],
    }
    const u = new uPlot(opts, data as uPlot.AlignedData, el)
    plot.current = u
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }))
    resize.observe(el)
    return () => { resize.disconnect(); u.destroy(); plot.current = null }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, height])

  useEffect(() => { plot.current?.setData(data as uPlot.AlignedData) }, [data])

  return (
    <figure className="chart-card">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={label} data-points={data[0]?.length ?? 0} data-filled={filledOf(data)} data-series={seriesKey} className="uplot-box" />
    </figure>
  )
}
