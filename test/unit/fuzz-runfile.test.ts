// Hostile run files, config files and worksheet inputs: Import run's parser (parseRunFile), the
// CLI's --config reader and the worksheet's parser get random text, random JSON, every truncation of a valid file, a valid file with one
// value anywhere replaced by random or hostile JSON, huge and deeply nested JSON. Each case ends
// in the reader's own error naming the field, within MAX_CASE_MS, or in a run that passes every check.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { runConfigFromFlags, UsageError } from '../../src/cli/main'
import { makeRunFile, MAX_RUN_FILE_BYTES, parseRunFile, type RunFile, RunFileError } from '../../src/lab/runFile'
import { DEFAULT_RUN_CONFIG, resolveRunConfig } from '../../src/rl/config'
import type { TraceRecord } from '../../src/rl/trainer'
import { InputError, parseWorksheetInput } from '../../src/rl/worksheet'
import { GRPO_CASES } from '../fixtures/grpoCases'
import { FUZZ_SEED, FuzzLog } from './fuzzing'

const trace: TraceRecord = {
  step: 1,
  groups: [{ prompt: '12+3=?<think>', answer: '15', completions: [
    { text: '</think><answer>15</answer>', rewards: { accuracy: 1, format: 1 }, reward: 1.1, advantage: 0.7, length: 27, truncated: false, correct: true },
    { text: 'no', rewards: { accuracy: 0, format: 0 }, reward: 0, advantage: -0.7, length: 2, truncated: true, correct: false },
  ] }],
}
const GOOD = makeRunFile('a run', { ...DEFAULT_RUN_CONFIG, beta: 0.04 }, [{ step: 1, reward: 0.5, length_correct: NaN }], [trace],
  [{ step: 1, metrics: { 'eval/accuracy': 0.25 } }])
const GOOD_TEXT = JSON.stringify(GOOD)

const runLog = new FuzzLog([RunFileError], /^.+?: .+/s)
afterAll(() => console.log(runLog.summary('run files (parseRunFile)')))

/** What a parsed run must satisfy whatever the file held. */
function expectSound(run: RunFile): void {
  expect(run.config).toEqual(resolveRunConfig(run.config as never))
  expect(run.name.length).toBeLessThanOrEqual(200)
  const metricsSound = (m: Record<string, number>) => Object.values(m).every((x) => Number.isNaN(x) || Number.isFinite(x))
  expect(run.metrics.every(metricsSound)).toBe(true)
  for (const t of run.traces) {
    expect(Number.isInteger(t.step)).toBe(true)
    for (const g of t.groups) {
      expect(typeof g.prompt === 'string' && typeof g.answer === 'string').toBe(true)
      for (const c of g.completions) {
        expect(typeof c.text).toBe('string')
        expect([c.reward, c.advantage, c.length].every(Number.isFinite)).toBe(true)
        expect(metricsSound(c.rewards)).toBe(true)
      }
    }
  }
}

/** Every path to a value inside a JSON value. */
function pathsOf(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const here = at.length ? [at] : []
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => pathsOf(x, [...at, i]))]
  if (typeof v === 'object' && v !== null) return [...here, ...Object.entries(v).flatMap(([k, x]) => pathsOf(x, [...at, k]))]
  return here
}

function replaced(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>
  let o = copy
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>
  o[path[path.length - 1]] = value
  return copy
}

const GOOD_JSON: unknown = JSON.parse(GOOD_TEXT)
const PATHS = pathsOf(GOOD_JSON)
/** Values no run file holds: wrong types, markup, prototype names, numbers JSON turns into Infinity. */
const HOSTILE = fc.constantFrom<unknown>('<img src=x onerror=window.__pwned=1>', '<script>window.__pwned=1</script>', '__proto__',
  'constructor', '', 'x'.repeat(20_000), -1, 1.5, 2 ** 53 + 1, -0, 1e308, null, true, [], {}, JSON.parse('{"__proto__":1}'), [[[[1]]]])

describe('run files: parseRunFile refuses hostile files', () => {
  it('the valid file parses (the fuzzers start from it)', () => {
    expectSound(runLog.run(() => parseRunFile(GOOD_TEXT))!)
  })

  it('every truncation of a valid file', () => {
    for (let n = 0; n < GOOD_TEXT.length; n++) runLog.refuse(() => parseRunFile(GOOD_TEXT.slice(0, n)))
  })

  it('random text and random JSON', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (text) => { runLog.refuse(() => parseRunFile(text)) }),
      { seed: FUZZ_SEED, numRuns: 300 })
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => { runLog.refuse(() => parseRunFile(JSON.stringify(v))) }),
      { seed: FUZZ_SEED, numRuns: 300 })
  })

  it('one value anywhere replaced by random or hostile JSON: refused naming it, or a sound run', () => {
    fc.assert(fc.property(fc.constantFrom(...PATHS), fc.oneof(fc.jsonValue({ maxDepth: 3 }), HOSTILE), (path, value) => {
      const run = runLog.run(() => parseRunFile(JSON.stringify(replaced(GOOD_JSON, path, value))))
      if (run) expectSound(run)
    }), { seed: FUZZ_SEED, numRuns: 800 })
  })

  it('names the field: numbers that overflow to Infinity, wrong types, markup where a number goes', () => {
    const at = (text: string) => runLog.refuse(() => parseRunFile(text))
    expect(at(GOOD_TEXT.replace('"reward":0.5', '"reward":1e400'))).toBe('metrics[0].reward: expected a finite number, got Infinity')
    expect(at(GOOD_TEXT.replace('"advantage":0.7', '"advantage":-1e999'))).toMatch(/^traces\[0\]\.groups\[0\]\.completions\[0\]\.advantage: expected a finite number/)
    expect(at(GOOD_TEXT.replace('"step":1,"groups"', '"step":"<b>1</b>","groups"'))).toMatch(/^traces\[0\]\.step: expected an integer/)
    expect(at(JSON.stringify(replaced(GOOD_JSON, ['config', 'task'], '<img src=x onerror=1>')))).toMatch(/^config: task: .*allowed: addition, countdown, echo$/)
    expect(at(JSON.stringify(replaced(GOOD_JSON, ['config', 'bogus'], 1)))).toMatch(/^config: "bogus": unknown key; allowed keys: task, seed/)
    expect(at(JSON.stringify(replaced(GOOD_JSON, ['config', ''], 1)))).toMatch(/^config: "": unknown key/)
    expect(at(JSON.stringify(replaced(GOOD_JSON, ['config', 'k'.repeat(100_000)], 1)))).toMatch(/^config: "k{40}": unknown key/)
    expect(at(JSON.stringify(replaced(GOOD_JSON, ['traces', 0, 'groups', 0, 'completions'], Array(65).fill(trace.groups[0].completions[0])))))
      .toMatch(/completions: 65 entries; allowed: at most 64/)
    expect(at(JSON.stringify(replaced(GOOD_JSON, ['name'], 'n'.repeat(201))))).toBe('name: expected text of at most 200 characters')
  })

  it('a metric named __proto__ stays a metric', () => {
    const run = runLog.run(() => parseRunFile(GOOD_TEXT.replace('"reward":0.5', '"__proto__":0.5')))!
    expect(Object.getPrototypeOf(run.metrics[0])).toBe(Object.prototype)
    expect(Object.hasOwn(run.metrics[0], '__proto__')).toBe(true)
  })

  it('huge and deeply nested files are refused quickly', () => {
    // each text is made before its case starts: the timed part is the parser's alone
    const parse = (text: string) => () => parseRunFile(text)
    const huge = parse(' '.repeat(MAX_RUN_FILE_BYTES + 1))
    expect(runLog.refuse(huge)).toMatch(/^file: \d+ characters of JSON; allowed: at most/)
    const deep = parse('['.repeat(5_000_000) + ']'.repeat(5_000_000))
    expect(runLog.refuse(deep)).toMatch(/^file: JSON nested more than 16/)
    const deepConfig = parse(GOOD_TEXT.replace('"beta":0.04', `"beta":${'['.repeat(20_000)}${']'.repeat(20_000)}`))
    expect(runLog.refuse(deepConfig)).toMatch(/nested more than/)
    // a million keys in one object (JSON.parse alone would take seconds)
    const manyKeys = parse(GOOD_TEXT.replace('"reward":0.5', Array.from({ length: 1_000_000 }, (_, i) => `"k${i}":0`).join(',')))
    expect(runLog.refuse(manyKeys)).toBe('file: a JSON object with more than 1024 members; allowed: at most 1024')
    // 10 MB of text in a trace is refused by the field's cap, named
    const longPrompt = parse(JSON.stringify(replaced(GOOD_JSON, ['traces', 0, 'groups', 0, 'prompt'], 'p'.repeat(10 * 2 ** 20))))
    expect(runLog.refuse(longPrompt)).toBe('traces[0].groups[0].prompt: expected text of at most 10000 characters')
  })
})

describe('config files: grpo-lab train --config refuses hostile files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-fuzz-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  // a config file's error is a UsageError naming the file, then the key or the JSON problem
  const configLog = new FuzzLog([UsageError], /^--config: .+/s)
  afterAll(() => console.log(configLog.summary('config files (--config)')))
  let n = 0
  const readConfig = (content: string | Uint8Array) => {
    const path = join(dir, `c${n++}.json`)
    writeFileSync(path, content)
    return () => runConfigFromFlags({ config: path })
  }
  const VALID = JSON.stringify({ task: 'echo', beta: 0.04, num_generations: 4, reward_weights: [1, 0.5] })

  it('a valid file is read; every truncation, random bytes and random JSON are refused or checked', () => {
    expect(configLog.run(readConfig(VALID))!.beta).toBe(0.04)
    for (let k = 0; k < VALID.length; k++) configLog.refuse(readConfig(VALID.slice(0, k)))
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => { configLog.refuse(readConfig(bytes)) }), { seed: FUZZ_SEED, numRuns: 150 })
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
      const config = configLog.run(readConfig(JSON.stringify(v)))
      if (config) expect(config).toEqual(resolveRunConfig(config as never)) // {} is a valid (default) config
    }), { seed: FUZZ_SEED, numRuns: 150 })
    fc.assert(fc.property(fc.constantFrom('task', 'beta', 'num_generations', 'reward_weights', 'seed', 'loss_type'), fc.oneof(fc.jsonValue({ maxDepth: 3 }), HOSTILE),
      (key, value) => {
        const config = configLog.run(readConfig(JSON.stringify({ ...JSON.parse(VALID), [key]: value })))
        if (config) expect(config).toEqual(resolveRunConfig(config as never))
      }), { seed: FUZZ_SEED, numRuns: 150 })
  })

  it('names the file for bad JSON, huge files and deep nesting', () => {
    expect(configLog.refuse(readConfig('{"beta": 0.04,}'))).toMatch(/^--config: .*c\d+\.json: not valid JSON \(.*position/)
    expect(configLog.refuse(readConfig(`{"beta":${'['.repeat(100_000)}}`))).toMatch(/^--config: .*JSON nested more than 16 levels/)
    expect(configLog.refuse(readConfig(' '.repeat(16 * 1024 * 1024 + 1)))).toMatch(/^--config: .* has 16777217 bytes; allowed: a JSON file of at most/)
    expect(configLog.refuse(readConfig('[1, 2]'))).toBe('--config: expected a JSON object of run settings')
    expect(configLog.refuse(readConfig('{"num_generations": 1}'))).toMatch(/^--config: .*c\d+\.json: num_generations: got 1; allowed: an integer from 2 to 64$/)
  })
})

describe('worksheet files: grpo-lab worksheet --input (and the typed numbers) refuse hostile input', () => {
  const sheetLog = new FuzzLog([InputError], /^.+?: .+/s)
  afterAll(() => console.log(sheetLog.summary('worksheet input (parseWorksheetInput)')))
  const VALID: unknown = JSON.parse(JSON.stringify(GRPO_CASES.far_outside_clip.input))
  const paths = pathsOf(VALID)

  it('random JSON and one value anywhere replaced: refused naming the field, or an input that computes', () => {
    expect(sheetLog.run(() => parseWorksheetInput(VALID))!.groups.length).toBeGreaterThan(0)
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => { sheetLog.refuse(() => parseWorksheetInput(v)) }), { seed: FUZZ_SEED, numRuns: 200 })
    fc.assert(fc.property(fc.constantFrom(...paths), fc.oneof(fc.jsonValue({ maxDepth: 3 }), HOSTILE), (path, value) => {
      const input = sheetLog.run(() => parseWorksheetInput(replaced(VALID, path, value)))
      if (input) for (const g of input.groups) expect([...g.rewards_per_func.flat(), ...g.completions.flatMap((c) => c.logp)].every(Number.isFinite)).toBe(true)
    }), { seed: FUZZ_SEED, numRuns: 300 })
  })
})
