// Run files: export → import gives the same run back; a corrupt or hostile file is refused with
// the bad field named.
import { describe, expect, it } from 'vitest'
import { makeRunFile, metricsCsv, parseRunFile } from '../../src/lab/runFile'
import { DEFAULT_RUN_CONFIG } from '../../src/rl/config'
import type { TraceRecord } from '../../src/rl/trainer'

const trace: TraceRecord = {
  step: 1,
  groups: [{ prompt: '12+3=?<think>', answer: '15', completions: [
    { text: '</think><answer>15</answer>', rewards: { accuracy: 1, format: 1 }, reward: 1.1, advantage: 0.7, length: 27, truncated: false, correct: true },
  ] }],
}

describe('run files', () => {
  it('round-trip through JSON', () => {
    const file = makeRunFile('a run', { ...DEFAULT_RUN_CONFIG, beta: 0.04 }, [{ step: 1, reward: 0.5, length_correct: NaN }], [trace], [{ step: 1, metrics: { 'eval/accuracy': 0.25 } }])
    const back = parseRunFile(JSON.stringify(file))
    expect(back.config.beta).toBe(0.04)
    expect(back.traces).toEqual([trace])
    expect(back.metrics[0].length_correct).toBeNaN()
    expect(back.evals[0].metrics['eval/accuracy']).toBe(0.25)
  })

  it('names what is wrong', () => {
    expect(() => parseRunFile('not json')).toThrow(/^file: not valid JSON/)
    expect(() => parseRunFile('{"format":"x"}')).toThrow(/^format: .*allowed: "grpo-lab\/run"/)
    const good = makeRunFile('r', DEFAULT_RUN_CONFIG, [], [trace], [])
    expect(() => parseRunFile(JSON.stringify({ ...good, config: { ...DEFAULT_RUN_CONFIG, num_generations: 1 } }))).toThrow(/^config: num_generations/)
    // a cross-key conflict names the key the file set that breaks it (n_head it leaves at 4 is not to blame)
    expect(() => parseRunFile(JSON.stringify({ ...good, config: { n_embd: 98 } }))).toThrow(/^config: n_embd: n_head = 4 does not divide n_embd = 98; allowed: a multiple of n_head = 4/)
    expect(() => parseRunFile(JSON.stringify({ ...good, metrics: [{ reward: '1' }] }))).toThrow(/^metrics\[0\]\.reward/)
    const badTrace = JSON.parse(JSON.stringify(good))
    badTrace.traces[0].groups[0].completions[0].text = { html: '<img onerror=alert(1)>' }
    expect(() => parseRunFile(JSON.stringify(badTrace))).toThrow(/traces\[0\]\.groups\[0\]\.completions\[0\]\.text/)
  })

  it('writes metrics as CSV with a column per metric', () => {
    expect(metricsCsv([{ step: 1, reward: 0.5 }, { step: 2, reward: 0.75, kl: -0.01 }])).toBe('step,reward,kl\r\n1,0.5,\r\n2,0.75,-0.01\r\n')
  })

  it('quotes metric names holding a comma, a quote or a line break (RFC 4180), and defuses formulas', () => {
    const names = ['a,b', 'say "hi"', 'two\nlines', 'cr\rlf', '=HYPERLINK("http://x","y")', '+1', '-2', '@SUM(A1)', '\tx', 'plain/name']
    const csv = metricsCsv([Object.fromEntries(names.map((n, i) => [n, i - 5]))])
    const [header, row, ...rest] = parseCsv(csv)
    expect(rest).toEqual([])
    expect(header).toEqual(names.map((n) => (/^[=+\-@\t]/.test(n) ? `'${n}` : n)))
    expect(row).toEqual(names.map((_, i) => String(i - 5))) // numbers, negative ones too, stay as they are
    expect(csv.split('\r\n')[0]).toBe('"a,b","say ""hi""","two\nlines","cr\rlf","\'=HYPERLINK(""http://x"",""y"")",\'+1,\'-2,\'@SUM(A1),\'\tx,plain/name')
  })
})

/** RFC 4180 records (CRLF-terminated; quoted fields may hold commas, "" and line breaks), written apart from metricsCsv. */
function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let fields: string[] = []; let field = ''; let i = 0
  while (i < text.length) {
    if (text[i] === '"') {
      i++
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') { field += '"'; i += 2 } else if (text[i] === '"') { i++; break } else field += text[i++]
      }
    } else if (text[i] === ',') { fields.push(field); field = ''; i++ } else if (text.startsWith('\r\n', i)) {
      fields.push(field); records.push(fields); fields = []; field = ''; i += 2
    } else field += text[i++]
  }
  return records
}
