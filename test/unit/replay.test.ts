// Replays (src/lab/replay.ts): the shipped ones are read by the page's own checks, are small and
// say what they recorded; a corrupt or hostile replay is refused with the bad field named.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { PRESETS, presetById } from '../../src/lab/presets'
import { float32Text, keepsTrace, parseReplay, type Replay, replayText, SHIPPED_REPLAYS } from '../../src/lab/replay'
import { makeRunFile } from '../../src/lab/runFile'
import { DEFAULT_RUN_CONFIG, resolveRunConfig } from '../../src/rl/config'
import { cliJson, runCli } from './cliOutput'

const DIR = 'public/replays'
const shipped = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''))

/** A small replay of three steps, built by hand: every field the format has. */
function tiny(): Replay {
  const completion = (text: string, reward: number) => ({ text, rewards: { accuracy: reward }, reward, advantage: reward - 0.5, length: text.length, truncated: false, correct: reward === 1 })
  const trace = (step: number) => ({ step, groups: [{ prompt: '5>', answer: '5', completions: [completion('5', 1), completion('7', 0)] }] })
  const config = resolveRunConfig({ ...DEFAULT_RUN_CONFIG, task: 'echo', base_model: '', num_generations: 2, max_completion_length: 4, max_steps: 10 })
  const metrics = [1, 2, 3].map((step) => ({ step, reward: 0.5, length_correct: step === 2 ? NaN : 1, ...(step === 1 ? { 'cold_start/loss': 2.5 } : {}) }))
  return {
    format: 'grpo-lab/replay', version: 1, preset: 'echo', backend: { kind: 'cpu', label: 'CPU backend (WebAssembly SIMD + relaxed FMA)' },
    steps: 3, trace_every: 2, recorded: { command: 'npx grpo-lab record --preset echo', minutes: 0.1 },
    run: makeRunFile('echo (recorded)', config, metrics, [trace(1), trace(2)], [{ step: 2, metrics: { 'eval/accuracy': 0.5 } }]),
    worksheet: [{ step: 2, group: 0, logp: [[-0.5], [-2.25]] }],
  }
}

/** The file's JSON, changed by `edit`, read back: the error's message. */
function refusal(edit: (j: Record<string, any>) => void): string {
  const j = JSON.parse(replayText(tiny()))
  edit(j)
  try { parseReplay(JSON.stringify(j)) } catch (e) { return (e as Error).message }
  return 'accepted'
}

describe('replay files', () => {
  it('round-trip: metrics as columns come back as the run file’s rows (NaN, and a metric a step did not log)', () => {
    const r = tiny()
    const back = parseReplay(replayText(r))
    expect(back.run.metrics[1].length_correct).toBeNaN()
    expect(Object.hasOwn(back.run.metrics[1], 'cold_start/loss')).toBe(false)
    expect(back.run.metrics[0]['cold_start/loss']).toBe(2.5)
    expect(back).toEqual(r)
  })

  it('names the field that is wrong', () => {
    expect(refusal(() => {})).toBe('accepted')
    expect(refusal((j) => { j.format = 'grpo-lab/run' })).toMatch(/^format: .*allowed: "grpo-lab\/replay"/)
    expect(refusal((j) => { j.version = 2 })).toMatch(/^version: /)
    expect(refusal((j) => { j.preset = '../etc' })).toMatch(/^preset: /)
    expect(refusal((j) => { j.backend.kind = 'webgpu' })).toMatch(/^backend\.kind: .*allowed: "cpu"/)
    expect(refusal((j) => { j.recorded.minutes = -1 })).toMatch(/^recorded\.minutes: /)
    expect(refusal((j) => { j.steps = 4 })).toMatch(/^run\.metrics: 3 steps; this replay says it recorded 4/)
    expect(refusal((j) => { j.steps = 11 })).toMatch(/^steps: expected an integer from 1 to 10/)
    expect(refusal((j) => { j.metric_rows[1][1] = '0.5' })).toMatch(/^metric_rows\[1\]\[1\] \(reward\): expected a finite number/)
    // 1e400 is valid JSON and parses to Infinity
    expect(() => parseReplay(replayText(tiny()).replace('"metric_rows":[[1,', '"metric_rows":[[1e400,'))).toThrow(/^metric_rows\[0\]\[0\] \(step\): expected a finite number/)
    expect(refusal((j) => { j.metric_rows[0].pop() })).toMatch(/^metric_rows\[0\]: 3 values; expected one per metric name \(4\)/)
    expect(refusal((j) => { j.metric_names[1] = 'step' })).toMatch(/^metric_names: "step" is named twice/)
    expect(refusal((j) => { j.metric_rows[2][0] = 5 })).toMatch(/^run\.metrics\[2\]\.step: got 5; expected 3/)
    expect(refusal((j) => { j.run.metrics = [] })).toMatch(/^run\.metrics: not in a replay/)
    expect(refusal((j) => { j.run.config.num_generations = 1 })).toMatch(/^run\.config: num_generations/)
    expect(refusal((j) => { j.run.traces[0].groups[0].completions[0].text = { html: '<img onerror=alert(1)>' } }))
      .toMatch(/^run\.traces\[0\]\.groups\[0\]\.completions\[0\]\.text: /)
    expect(refusal((j) => { j.run.traces[1].step = 3 })).toMatch(/^run\.traces\[1\]\.step: got 3; expected 2/)
    expect(refusal((j) => { j.run.traces.pop() })).toMatch(/^run\.traces: 1 traces; expected 2/)
    expect(refusal((j) => { j.run.evals[0].step = 7 })).toMatch(/^run\.evals\[0\]\.step: got 7/)
    expect(refusal((j) => { j.worksheet[0].step = 3 })).toMatch(/^worksheet\[0\]\.step: step 3 has no trace/)
    expect(refusal((j) => { j.worksheet[0].group = 1 })).toMatch(/^worksheet\[0\]\.group: expected an integer from 0 to 0/)
    expect(refusal((j) => { j.worksheet[0].logp.pop() })).toMatch(/^worksheet\[0\]\.logp: 1 completions; the group has 2/)
    expect(refusal((j) => { j.worksheet[0].logp[1][0] = 0.5 })).toMatch(/^worksheet\[0\]\.logp\[1\]\[0\]: expected a log-probability/)
    expect(refusal((j) => { j.worksheet[0].logp[1] = [-1, -1, -1, -1, -1] })).toMatch(/^worksheet\[0\]\.logp\[1\]: 5 entries; allowed: at most 4/)
    expect(() => parseReplay('{"format":')).toThrow(/^file: /)
  })

  it('writes a float32 in the fewest digits that read back as it', () => {
    for (const x of [-0.30000001192092896, -2.6230885982513428, -1e-7, 0, -123.456]) {
      const y = float32Text(x)
      expect(Math.fround(y)).toBe(Math.fround(x))
      expect(String(y).length).toBeLessThanOrEqual(String(Math.fround(x)).length)
    }
    expect(float32Text(Math.fround(-0.3))).toBe(-0.3)
  })

  it('ships a replay for each preset SHIPPED_REPLAYS names, and no other; every preset has one', () => {
    expect(shipped.sort()).toEqual([...SHIPPED_REPLAYS].sort())
    expect([...SHIPPED_REPLAYS].sort()).toEqual(PRESETS.map((p) => p.id).sort())
  })

  it.each(shipped)('%s.json: read by the page’s checks, of its preset’s config, at most 400 KB, every kept trace with worksheet inputs', (id) => {
    const path = `${DIR}/${id}.json`
    const r = parseReplay(readFileSync(path, 'utf8'))
    // 400 KB: a Countdown step's trace keeps its 128 completions (16 prompts × 8); the others are 200–280 KB
    expect(statSync(path).size).toBeLessThanOrEqual(400 * 1024)
    expect(r.preset).toBe(id)
    const preset = presetById(id)!
    expect(r.run.config).toEqual(resolveRunConfig({ ...DEFAULT_RUN_CONFIG, ...preset.values }))
    expect(r.backend.label).toMatch(/^CPU backend \(WebAssembly SIMD \+ relaxed FMA\)$/)
    expect(r.run.traces.map((t) => t.step)).toEqual(r.run.metrics.map((m) => m.step).filter((s) => keepsTrace(s, r.trace_every)))
    for (const t of r.run.traces) expect(r.worksheet.some((w) => w.step === t.step)).toBe(true)
    expect(r.recorded.command).toMatch(new RegExp(`^npx grpo-lab record --preset ${id}\\b`))
  })

  it('grpo-lab record writes what parseReplay reads: the first steps of a preset, on the page’s CPU backend', { timeout: 60_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'replay-')), 'echo.json')
    const said = await cliJson<{ bytes: number; steps: number; traces: number; backend: string }>(
      ['record', '--preset', 'echo', '--stop-after', '5', '--trace-every', '2', '--worksheet-groups', '1', '--out', out])
    const r = parseReplay(readFileSync(out, 'utf8'))
    expect(said).toMatchObject({ steps: 5, traces: 3, backend: 'CPU backend (WebAssembly SIMD + relaxed FMA)', bytes: statSync(out).size })
    expect(r.run.config.max_steps).toBe(150) // the preset's whole schedule, of which 5 steps were recorded
    expect(r.run.traces.map((t) => t.step)).toEqual([1, 2, 4])
    expect(r.worksheet.map((w) => [w.step, w.group])).toEqual([[1, 0], [2, 0], [4, 0]])
    expect(r.recorded.command).toBe(`npx grpo-lab record --preset echo --stop-after 5 --trace-every 2 --worksheet-groups 1 --out ${out}`)
    expect((await runCli(['record', '--preset', 'nope', '--out', out])).stderr).toMatch(/--preset: got "nope"; allowed: addition, /)
    expect((await runCli(['record', '--preset', 'echo', '--stop-after', '151', '--out', out])).stderr).toMatch(/--stop-after: .*allowed: an integer from 1 to 150/)
  })
})

