// Several runs of `grpo-lab train --out runs/NAME`, grouped by label (GRPO vs Dr. GRPO, 3 seeds
// each), as one SVG for the README: per label the mean over seeds of each metric per step (after
// a trailing moving average over steps within each run), with a band of ± one sample standard
// deviation over seeds; and a Markdown table of the gap (length_incorrect − length_correct by
// default) at fixed steps, its mean and spread over seeds. No plotting dependency: plain SVG.
//
// Usage:
//   node --import tsx scripts/plot-seeds.ts --out docs/length-bias.svg [--every 25] [--smooth 5]
//     [--metrics length_correct,length_incorrect] [--title T]
//     --label grpo runs/cd-grpo-s1 runs/cd-grpo-s2 --label dr_grpo runs/cd-dr-s1 runs/cd-dr-s2
//   or, instead of --label, --group-by loss_type,scale_rewards and the run folders: each run's
//   label is read from its run.json (the config `grpo-lab train` wrote beside metrics.jsonl).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

export type Row = Record<string, number | null>
export interface Run { dir: string; rows: Row[]; config: Record<string, unknown> }
export interface Group { label: string; runs: Run[] }
export interface Point { step: number; mean: number; sd: number; n: number }
export interface Options {
  out: string
  every: number
  smooth: number
  /** [smaller, larger]: the gap is the second minus the first */
  metrics: string[]
  title: string
  labels: { label: string; dirs: string[] }[]
  groupBy: string[]
  /** run folders given without --label (with --group-by) */
  dirs: string[]
}

export class PlotArgsError extends Error {}

const USAGE = 'usage: plot-seeds.ts --out OUT.svg [--every N] [--smooth K] [--metrics A,B] [--title T] ' +
  '(--label NAME DIR... )... | --group-by KEY[,KEY] DIR...'

export function parseArgs(argv: readonly string[]): Options {
  const o: Options = { out: '', every: 25, smooth: 5, metrics: ['length_correct', 'length_incorrect'], title: '', labels: [], groupBy: [], dirs: [] }
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1]
    if (v === undefined || v.startsWith('--')) throw new PlotArgsError(`${flag}: a value is missing; ${USAGE}`)
    return v
  }
  const int = (v: string, flag: string): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1) throw new PlotArgsError(`${flag}: got ${JSON.stringify(v)}; allowed: an integer ≥ 1`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--out') o.out = value(i++, a)
    else if (a === '--every') o.every = int(value(i++, a), a)
    else if (a === '--smooth') o.smooth = int(value(i++, a), a)
    else if (a === '--title') o.title = value(i++, a)
    else if (a === '--metrics') o.metrics = value(i++, a).split(',').filter(Boolean)
    else if (a === '--group-by') o.groupBy = value(i++, a).split(',').filter(Boolean)
    else if (a === '--label') o.labels.push({ label: value(i++, a), dirs: [] })
    else if (a.startsWith('--')) throw new PlotArgsError(`${a}: not an option; ${USAGE}`)
    else if (o.labels.length) o.labels[o.labels.length - 1].dirs.push(a)
    else o.dirs.push(a)
  }
  if (!o.out.endsWith('.svg')) throw new PlotArgsError(`--out: got ${JSON.stringify(o.out)}; allowed: a path ending in .svg`)
  if (o.metrics.length !== 2) throw new PlotArgsError(`--metrics: got ${o.metrics.length} names; allowed: two, A,B (the gap is B − A)`)
  if (o.labels.length && (o.groupBy.length || o.dirs.length)) {
    throw new PlotArgsError(`${o.dirs[0] ?? '--group-by'}: give run folders after a --label, or all of them with --group-by, not both`)
  }
  if (!o.labels.length && !o.groupBy.length) throw new PlotArgsError(`no runs: ${USAGE}`)
  for (const l of o.labels) if (!l.dirs.length) throw new PlotArgsError(`--label ${l.label}: no run folders after it`)
  if (o.groupBy.length && !o.dirs.length) throw new PlotArgsError(`--group-by: no run folders after it`)
  return o
}

/** One run folder: metrics.jsonl (JSON's null for a metric of an empty set) and run.json's config. */
export function readRun(dir: string): Run {
  const path = join(dir, 'metrics.jsonl')
  if (!existsSync(path)) throw new PlotArgsError(`${dir}: no metrics.jsonl (allowed: a folder written by grpo-lab train --out)`)
  const rows = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    let r: unknown
    try { r = JSON.parse(l) } catch { throw new PlotArgsError(`${path}: line ${i + 1} is not JSON`) }
    if (typeof r !== 'object' || r === null || typeof (r as Row).step !== 'number') throw new PlotArgsError(`${path}: line ${i + 1} has no numeric "step"`)
    return r as Row
  })
  if (!rows.length) throw new PlotArgsError(`${path}: no steps`)
  const runJson = join(dir, 'run.json')
  const config = existsSync(runJson) ? ((JSON.parse(readFileSync(runJson, 'utf8')) as { config?: Record<string, unknown> }).config ?? {}) : {}
  return { dir, rows, config }
}

/** Runs grouped: by the labels given, or by the config keys named in --group-by. */
export function groupRuns(o: Options, read: (dir: string) => Run = readRun): Group[] {
  if (o.labels.length) return o.labels.map((l) => ({ label: l.label, runs: l.dirs.map(read) }))
  const out = new Map<string, Run[]>()
  for (const run of o.dirs.map(read)) {
    const label = o.groupBy.map((k) => {
      if (!(k in run.config)) throw new PlotArgsError(`--group-by ${k}: ${run.dir}/run.json has no config key ${k}`)
      return `${k}=${String(run.config[k])}`
    }).join(' ')
    out.set(label, [...(out.get(label) ?? []), run])
  }
  return [...out].map(([label, runs]) => ({ label, runs }))
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** A run's metric by step, each the mean of its finite values over the last `k` steps (NaN when none). */
export function smoothed(rows: readonly Row[], key: string, k: number): Map<number, number> {
  const sorted = [...rows].sort((a, b) => (a.step as number) - (b.step as number))
  const out = new Map<number, number>()
  sorted.forEach((r, i) => {
    const w = sorted.slice(Math.max(0, i - k + 1), i + 1).map((x) => x[key]).filter(isNum)
    out.set(r.step as number, w.length ? w.reduce((a, b) => a + b, 0) / w.length : NaN)
  })
  return out
}

/** Mean and sample (n − 1) standard deviation of the finite values; sd NaN for fewer than 2. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number; n: number } {
  const v = xs.filter(Number.isFinite)
  if (!v.length) return { mean: NaN, sd: NaN, n: 0 }
  const mean = v.reduce((a, b) => a + b, 0) / v.length
  const sd = v.length < 2 ? NaN : Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1))
  return { mean, sd, n: v.length }
}

/** The steps every run of a group has, in order. */
function commonSteps(runs: readonly Run[]): number[] {
  const sets = runs.map((r) => new Set(r.rows.map((x) => x.step as number)))
  return [...sets[0]].filter((s) => sets.every((x) => x.has(s))).sort((a, b) => a - b)
}

/** Per step, the mean and spread over a group's seeds of a (smoothed) metric, or of the gap b − a. */
export function band(runs: readonly Run[], value: (run: Run) => Map<number, number>): Point[] {
  const series = runs.map(value)
  return commonSteps(runs).map((step) => ({ step, ...meanSd(series.map((s) => s.get(step) ?? NaN)) }))
}

export function gapOf(a: string, b: string, k: number): (run: Run) => Map<number, number> {
  return (run) => {
    const lo = smoothed(run.rows, a, k)
    const hi = smoothed(run.rows, b, k)
    return new Map([...hi].map(([s, v]) => [s, v - (lo.get(s) ?? NaN)]))
  }
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–')
const signed = (x: number) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(1) : '–')

/** The Markdown table: per fixed step (every `every`, and the last), each group's gap mean ± sd (seeds). */
export function gapTable(groups: readonly Group[], o: Pick<Options, 'every' | 'smooth' | 'metrics'>): string {
  const [a, b] = o.metrics
  const gaps = groups.map((g) => new Map(band(g.runs, gapOf(a, b, o.smooth)).map((p) => [p.step, p])))
  const last = Math.max(...gaps.flatMap((m) => [...m.keys()]))
  const steps = [...new Set([...Array.from({ length: Math.floor(last / o.every) }, (_, i) => (i + 1) * o.every), last])]
  const head = `| step | ${groups.map((g) => `${g.label}: ${b} − ${a} (mean ± sd over seeds, n)`).join(' | ')} |`
  const rule = `|---:|${groups.map(() => '---:').join('|')}|`
  const rows = steps.map((s) => `| ${s} | ${gaps.map((m) => {
    const p = m.get(s)
    return p && p.n ? `${signed(p.mean)} ± ${fmt(p.sd)} (${p.n})` : '–'
  }).join(' | ')} |`)
  const note = `\n${o.smooth > 1 ? `Each run's values are the mean over the last ${o.smooth} steps; ` : ''}sd: sample standard deviation over seeds (– for one seed).`
  return [head, rule, ...rows].join('\n') + '\n' + note + '\n'
}

const COLORS = ['#3a63d8', '#d8703a', '#2a9d5c', '#a63ad8', '#c9a227', '#d83a6b']
const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!)

/** The SVG: per group one colour, the first metric solid and the second dashed, each with its band. */
export function bandsSvg(groups: readonly Group[], o: Pick<Options, 'smooth' | 'metrics' | 'title'>): string {
  const lines = groups.flatMap((g, gi) => o.metrics.map((key, mi) => ({
    g, gi, key, dashed: mi === 1, points: band(g.runs, (run) => smoothed(run.rows, key, o.smooth)).filter((p) => p.n > 0),
  })))
  const all = lines.flatMap((l) => l.points)
  if (!all.length) throw new PlotArgsError(`${o.metrics.join(', ')}: no finite values in any run`)
  const hiOf = (p: Point) => (Number.isFinite(p.sd) ? p.mean + p.sd : p.mean)
  const loOf = (p: Point) => (Number.isFinite(p.sd) ? p.mean - p.sd : p.mean)
  // the legend goes under the plot, two entries a row, so that it hides no curve
  const legendRows = Math.ceil(lines.length / 2)
  const W = 760; const L = 56; const R = 20; const T = 36; const B = 44 + legendRows * 16 + 8; const H = 300 + legendRows * 16 + 8
  const minStep = Math.min(...all.map((p) => p.step)); const maxStep = Math.max(...all.map((p) => p.step))
  const top = Math.max(...all.map(hiOf)); const bottom = Math.min(...all.map(loOf))
  const pad = (top - bottom) * 0.05 || Math.abs(top) * 0.05 || 1
  const yMax = top + pad; const yMin = bottom - pad
  const x = (s: number) => L + ((s - minStep) / Math.max(1, maxStep - minStep)) * (W - L - R)
  const y = (v: number) => T + (1 - (v - yMin) / Math.max(1e-9, yMax - yMin)) * (H - T - B)
  const xy = (s: number, v: number) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`
  // a series breaks where a step has no value (no run had, say, a correct completion there)
  const runsOf = (pts: Point[]) => pts.reduce<Point[][]>((acc, p, i) => {
    if (i === 0 || p.step !== pts[i - 1].step + 1) acc.push([])
    acc[acc.length - 1].push(p)
    return acc
  }, [])
  const yTicks = Array.from({ length: 5 }, (_, i) => yMin + ((yMax - yMin) * i) / 4)
  const body = lines.map((l) => {
    const color = COLORS[l.gi % COLORS.length]
    return runsOf(l.points).map((seg) => {
      const area = `M${seg.map((p) => xy(p.step, hiOf(p))).join(' L')} L${[...seg].reverse().map((p) => xy(p.step, loOf(p))).join(' L')} Z`
      const line = `M${seg.map((p) => xy(p.step, p.mean)).join(' L')}`
      return `<path d="${area}" fill="${color}" fill-opacity="0.15" stroke="none"/>\n` +
        `<path d="${line}" fill="none" stroke="${color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6,4"' : ''}/>`
    }).join('\n')
  }).join('\n')
  const legend = lines.map((l, i) => {
    const color = COLORS[l.gi % COLORS.length]
    const lx = (i % 2) * 340
    const ly = 10 + Math.floor(i / 2) * 16
    return `<line x1="${lx + 8}" y1="${ly}" x2="${lx + 30}" y2="${ly}" stroke="${color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6,4"' : ''}/>` +
      `<text x="${lx + 36}" y="${ly + 4}">${escapeXml(`${l.g.label} · ${l.key} (${l.g.runs.length} seed${l.g.runs.length === 1 ? '' : 's'})`)}</text>`
  }).join('\n')
  const title = o.title || `${o.metrics.join(' vs ')}: mean ± sd over seeds`
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${L}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>
${yTicks.map((v) => `<line x1="${L}" y1="${y(v).toFixed(1)}" x2="${W - R}" y2="${y(v).toFixed(1)}" stroke="#eee"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`).join('\n')}
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/>
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#999"/>
${[minStep, Math.round((minStep + maxStep) / 2), maxStep].map((s) => `<text x="${x(s).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${s}</text>`).join('\n')}
<text x="${(L + W - R) / 2}" y="${H - B + 34}" text-anchor="middle">GRPO step${o.smooth > 1 ? ` (each run: mean of the last ${o.smooth} steps)` : ''}; bands: ± 1 sd over seeds</text>
${body}
<g transform="translate(${L},${H - B + 44})">
${legend}
</g>
</svg>
`
}

function main(argv: string[]): void {
  const o = parseArgs(argv)
  const groups = groupRuns(o)
  writeFileSync(o.out, bandsSvg(groups, o))
  console.error(`wrote ${o.out}: ${groups.map((g) => `${g.label} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`).join(', ')}`)
  process.stdout.write(gapTable(groups, o))
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try { main(process.argv.slice(2)) } catch (e) {
    if (!(e instanceof PlotArgsError)) throw e
    console.error(`plot-seeds: ${e.message}`)
    process.exit(2)
  }
}
