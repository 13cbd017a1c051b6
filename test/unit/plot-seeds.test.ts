// The seed-band plot script (scripts/plot-seeds.ts) on small synthetic run folders written here:
// trailing smoothing with gaps, mean ± sample sd over seeds, grouping by label or by run.json's
// config, the gap table at fixed steps, the SVG's series and bands, and its refusals.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  band, bandsSvg, gapOf, gapTable, groupRuns, meanSd, parseArgs, PlotArgsError, readRun, type Row, smoothed,
} from '../../scripts/plot-seeds'

const root = mkdtempSync(join(tmpdir(), 'plot-seeds-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A run folder as `grpo-lab train --out` leaves it: metrics.jsonl (NaN as null) and run.json. */
function writeRun(name: string, rows: Row[], config: Record<string, unknown>): string {
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n')
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ config, adapter: 'test' }))
  return dir
}

// group "grpo": seed j's incorrect completions are step/10 + j longer than its correct ones (gap mean step/10 + 1, sd 1);
// group "dr": no gap. Step 3 of grpo seed 0 has no correct completion (null).
const STEPS = 60
const rowsOf = (gap: (step: number) => number, missing?: number): Row[] => Array.from({ length: STEPS }, (_, i) => {
  const step = i + 1
  return { step, length_correct: step === missing ? null : 20, length_incorrect: 20 + gap(step) }
})
const grpo = [0, 1, 2].map((j) => writeRun(`grpo-s${j}`, rowsOf((s) => s / 10 + j, j === 0 ? 3 : undefined), { loss_type: 'grpo', scale_rewards: 'group', seed: j }))
const dr = [0, 1, 2].map((j) => writeRun(`dr-s${j}`, rowsOf(() => 0), { loss_type: 'dr_grpo', scale_rewards: 'none', seed: j }))

describe('the numbers', () => {
  it('smooths each run over its last k steps, skipping missing values', () => {
    const rows: Row[] = [1, 2, 3, null, 5].map((v, i) => ({ step: i + 1, m: v }))
    expect([...smoothed(rows, 'm', 2).values()]).toEqual([1, 1.5, 2.5, 3, 5])
    expect([...smoothed([{ step: 1, m: null }], 'm', 3).values()]).toEqual([NaN])
  })

  it('takes the mean and sample standard deviation over seeds, NaN sd for one', () => {
    expect(meanSd([1, 2, 3])).toEqual({ mean: 2, sd: 1, n: 3 })
    expect(meanSd([4, NaN])).toEqual({ mean: 4, sd: NaN, n: 1 })
    expect(meanSd([]).n).toBe(0)
  })

  it('gives the gap per step over seeds, with fewer seeds where one has no value', () => {
    const runs = grpo.map(readRun)
    const pts = band(runs, gapOf('length_correct', 'length_incorrect', 1))
    expect(pts).toHaveLength(STEPS)
    expect(pts[24]).toMatchObject({ step: 25, n: 3 })
    expect(pts[24].mean).toBeCloseTo(3.5, 12)
    expect(pts[24].sd).toBeCloseTo(1, 12)
    expect(pts[2]).toMatchObject({ step: 3, n: 2 }) // seed 0 had no correct completion at step 3
    expect(pts[2].mean).toBeCloseTo(0.3 + 1.5, 12)
  })
})

describe('grouping and the outputs', () => {
  const base = { out: join(root, 'x.svg'), every: 25, smooth: 1, metrics: ['length_correct', 'length_incorrect'], title: '', groupBy: [], dirs: [] }

  it('groups by the labels given or by run.json\'s config keys', () => {
    const byLabel = groupRuns({ ...base, labels: [{ label: 'grpo', dirs: grpo }, { label: 'dr', dirs: dr }] })
    expect(byLabel.map((g) => [g.label, g.runs.length])).toEqual([['grpo', 3], ['dr', 3]])
    const byConfig = groupRuns({ ...base, labels: [], groupBy: ['loss_type', 'scale_rewards'], dirs: [...grpo, ...dr] })
    expect(byConfig.map((g) => [g.label, g.runs.length])).toEqual([['loss_type=grpo scale_rewards=group', 3], ['loss_type=dr_grpo scale_rewards=none', 3]])
    expect(() => groupRuns({ ...base, labels: [], groupBy: ['nope'], dirs: grpo })).toThrow(/run.json has no config key nope/)
  })

  it('prints the gap at every 25 steps and the last, per group, as a Markdown table', () => {
    const groups = groupRuns({ ...base, labels: [{ label: 'grpo', dirs: grpo }, { label: 'dr', dirs: dr }] })
    const lines = gapTable(groups, base).split('\n')
    expect(lines[0]).toBe('| step | grpo: length_incorrect − length_correct (mean ± sd over seeds, n) | dr: length_incorrect − length_correct (mean ± sd over seeds, n) |')
    expect(lines[1]).toBe('|---:|---:|---:|')
    expect(lines.slice(2, 5)).toEqual(['| 25 | +3.5 ± 1.0 (3) | +0.0 ± 0.0 (3) |', '| 50 | +6.0 ± 1.0 (3) | +0.0 ± 0.0 (3) |', '| 60 | +7.0 ± 1.0 (3) | +0.0 ± 0.0 (3) |'])
    // with smoothing over 5 steps, step 25 is the mean of steps 21–25: gap mean (2.3 + 1), the same sd
    expect(gapTable(groups, { ...base, smooth: 5 })).toContain('| 25 | +3.3 ± 1.0 (3) |')
  })

  it('draws a band and a line per group and metric, dashed for the second metric, with a legend', () => {
    const groups = groupRuns({ ...base, labels: [{ label: 'grpo <a>', dirs: grpo }, { label: 'dr', dirs: dr.slice(0, 1) }] })
    const svg = bandsSvg(groups, { ...base, title: 'A & B' })
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg).toContain('A &amp; B')
    expect(svg).toContain('grpo &lt;a&gt; · length_incorrect (3 seeds)')
    expect(svg).toContain('dr · length_correct (1 seed)')
    const bands = svg.match(/fill-opacity="0.15"/g) ?? []
    const lines = svg.match(/<path d="M[^"]*" fill="none"/g) ?? []
    expect(lines).toHaveLength(4)
    expect(bands).toHaveLength(4)
    expect((svg.match(/stroke-dasharray="6,4"/g) ?? []).length).toBe(2 * 2) // two dashed lines and their legend entries
  })

  it('breaks a line where no seed has a value', () => {
    const gap = writeRun('gap', [{ step: 1, length_correct: 10, length_incorrect: 12 }, { step: 2, length_correct: null, length_incorrect: 12 },
      { step: 3, length_correct: 11, length_incorrect: 13 }], {})
    const svg = bandsSvg([{ label: 'one', runs: [readRun(gap)] }], base)
    expect(svg.match(/<path d="M[^"]*" fill="none"/g)).toHaveLength(3) // correct: steps 1 and 3 apart; incorrect: one line
  })
})

describe('the command line', () => {
  it('writes the SVG and prints the table', () => {
    const out = join(root, 'bands.svg')
    const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/plot-seeds.ts', '--out', out, '--smooth', '1',
      '--label', 'grpo', ...grpo, '--label', 'dr', ...dr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    expect(stdout).toContain('| 50 | +6.0 ± 1.0 (3) | +0.0 ± 0.0 (3) |')
    expect(readFileSync(out, 'utf8')).toContain('</svg>')
  })

  it('refuses bad arguments, naming what is wrong and what is allowed', () => {
    expect(() => parseArgs(['--label', 'a', 'runs/x'])).toThrow(/--out: got "".*allowed: a path ending in \.svg/)
    expect(() => parseArgs(['--out', 'a.svg', '--every', '0', '--label', 'a', 'x'])).toThrow(/--every: got "0"; allowed: an integer ≥ 1/)
    expect(() => parseArgs(['--out', 'a.svg', '--label', 'a'])).toThrow(/--label a: no run folders/)
    expect(() => parseArgs(['--out', 'a.svg', '--metrics', 'a', '--label', 'a', 'x'])).toThrow(/allowed: two/)
    expect(() => parseArgs(['--out', 'a.svg', '--bogus'])).toThrow(PlotArgsError)
    expect(() => readRun(join(root, 'none'))).toThrow(/no metrics.jsonl/)
  })
})
