// Draw a run's story as an SVG for the README: accuracy (train batch and held-out) and mean
// completion length per step, from a metrics.jsonl written by `grpo-lab train`.
// Usage: node --import tsx scripts/plot-run.ts runs/demo/metrics.jsonl docs/demo-addition.svg "title"
import { readFileSync, writeFileSync } from 'node:fs'

const [input, output, title = 'GRPO run'] = process.argv.slice(2)
if (!input || !output) { console.error('usage: plot-run.ts METRICS.jsonl OUT.svg [TITLE]'); process.exit(2) }
const rows = readFileSync(input, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)

const W = 760; const H = 300; const L = 50; const R = 60; const T = 36; const B = 40
const steps = rows.map((r) => r.step)
const maxStep = Math.max(...steps)
const maxLen = Math.max(...rows.map((r) => r['completions/mean_length'])) * 1.1
const x = (s: number) => L + ((s - 1) / Math.max(1, maxStep - 1)) * (W - L - R)
const yAcc = (v: number) => T + (1 - v) * (H - T - B)
const yLen = (v: number) => T + (1 - v / maxLen) * (H - T - B)
const path = (pts: [number, number][]) => pts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ')
const smooth = (vals: number[], k = 5) => vals.map((_, i) => {
  const w = vals.slice(Math.max(0, i - k + 1), i + 1)
  return w.reduce((a, b) => a + b, 0) / w.length
})
const acc = smooth(rows.map((r) => r.accuracy))
const len = smooth(rows.map((r) => r['completions/mean_length']))
const evals = rows.filter((r) => r['eval/accuracy'] !== undefined)
// the learning rate as a share of its peak (a schedule's shape; flat when constant)
const peakLr = Math.max(...rows.map((r) => r.learning_rate))

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${L}" y="20" font-size="14" font-weight="bold">${title}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/>
<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#999"/>
<line x1="${W - R}" y1="${T}" x2="${W - R}" y2="${H - B}" stroke="#999"/>
${[0, 0.25, 0.5, 0.75, 1].map((v) => `<text x="${L - 6}" y="${yAcc(v) + 4}" text-anchor="end">${Math.round(v * 100)}%</text><line x1="${L}" y1="${yAcc(v)}" x2="${W - R}" y2="${yAcc(v)}" stroke="#eee"/>`).join('\n')}
${[0, 0.5, 1].map((f) => `<text x="${W - R + 6}" y="${yLen(f * maxLen) + 4}">${Math.round(f * maxLen)}</text>`).join('\n')}
<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">GRPO step</text>
<text x="${W - R + 6}" y="${T - 8}">length</text>
${[1, Math.round(maxStep / 2), maxStep].map((s) => `<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${s}</text>`).join('\n')}
<line x1="${L}" y1="${yAcc(0.85)}" x2="${W - R}" y2="${yAcc(0.85)}" stroke="#c0392b" stroke-dasharray="2,3"/><text x="${L + 4}" y="${yAcc(0.85) - 4}" fill="#c0392b">85%</text>
<path d="${path(rows.map((r) => [x(r.step), yAcc(r.learning_rate / peakLr)]))}" fill="none" stroke="#999" stroke-width="1"/>
<path d="${path(rows.map((r, i) => [x(r.step), yAcc(acc[i])]))}" fill="none" stroke="#3a63d8" stroke-width="2"/>
<path d="${path(rows.map((r, i) => [x(r.step), yLen(len[i])]))}" fill="none" stroke="#d8873a" stroke-width="2"/>
${evals.length ? `<path d="${path(evals.map((r) => [x(r.step), yAcc(r['eval/accuracy'])]))}" fill="none" stroke="#2a9d4a" stroke-width="2" stroke-dasharray="5,3"/>` : ''}
${evals.map((r) => `<circle cx="${x(r.step)}" cy="${yAcc(r['eval/accuracy'])}" r="3" fill="#2a9d4a"/>`).join('')}
<g transform="translate(${W - R - 262},${H - B - 82})">
<rect width="250" height="74" fill="white" stroke="#ddd"/>
<line x1="8" y1="14" x2="30" y2="14" stroke="#3a63d8" stroke-width="2"/><text x="36" y="18">accuracy on the step's rollouts (5-step mean)</text>
<line x1="8" y1="30" x2="30" y2="30" stroke="#2a9d4a" stroke-width="2" stroke-dasharray="5,3"/><text x="36" y="34">held-out accuracy (greedy pass@1)</text>
<line x1="8" y1="46" x2="30" y2="46" stroke="#d8873a" stroke-width="2"/><text x="36" y="50">mean completion length (right axis)</text>
<line x1="8" y1="62" x2="30" y2="62" stroke="#999" stroke-width="1"/><text x="36" y="66">learning rate (share of ${peakLr.toExponential(0)})</text>
</g>
</svg>
`
writeFileSync(output, svg)
console.log(`wrote ${output}: ${rows.length} steps, ${evals.length} evaluations`)
