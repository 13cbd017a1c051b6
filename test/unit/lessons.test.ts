// Lesson files: every shipped one validates (and its fixed answers are what the worksheet computes);
// a malformed one is refused naming the field and what is allowed; answers are checked against
// the run's numbers as the panel checks them.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import {
  checkAnswer, firstMixedGroup, largestAdvantage, type Lesson, LessonError, type LessonQuestion, parseLesson, parseLessonIndex, parseLessonText,
} from '../../src/lessons/lesson'
import { lessonPieces } from '../../src/lessons/lessonText'
import { computeWorksheet, parseWorksheetInput } from '../../src/rl/worksheet'

const DIR = join(__dirname, '../../public/lessons')
const lessonFiles = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json').sort()
const read = (f: string) => readFileSync(join(DIR, f), 'utf8')

/** The first error parseLesson throws for `json`, as "field: message". */
function refusal(json: unknown): string {
  try { parseLesson(json) } catch (e) {
    expect(e).toBeInstanceOf(LessonError)
    return (e as Error).message
  }
  throw new Error('parseLesson accepted it')
}

const page = (extra: Record<string, unknown> = {}) => ({ title: 'A page', text: ['Some text.'], ...extra })
const lessonWith = (...pages: unknown[]) => ({ id: 'x', title: 'X', summary: 'A lesson.', pages })

describe('shipped lessons', () => {
  it('six of them, each listed in index.json under its file name', () => {
    expect(lessonFiles).toHaveLength(6)
    const index = parseLessonIndex(JSON.parse(read('index.json')))
    expect(index.map((e) => `${e.id}.json`).sort()).toEqual(lessonFiles)
    for (const e of index) expect(parseLessonText(read(`${e.id}.json`), e.id).title).toBe(e.title)
  })

  it.each(lessonFiles)('%s validates, and ends in a question the student answers', (f) => {
    const lesson = parseLessonText(read(f), f.replace(/\.json$/, ''))
    expect(lesson.pages.length).toBeGreaterThanOrEqual(3)
    expect(lesson.pages.at(-1)!.question).toBeDefined()
  })

  it('a fixed number answer on a page with typed worksheet numbers is one of the advantages the worksheet computes', async () => {
    let checked = 0
    for (const f of lessonFiles) {
      const lesson: Lesson = parseLessonText(read(f))
      for (const p of lesson.pages) {
        const typed = p.actions.flatMap((a) => ('worksheet' in a && typeof a.worksheet === 'object' && 'typed' in a.worksheet ? [a.worksheet.typed] : []))
        if (p.question?.kind !== 'number' || typed.length === 0) continue
        const out = await computeWorksheet(new CpuBackend('f32'), parseWorksheetInput(typed.at(-1)))
        const q = p.question
        expect(out.advantages.some((a) => Math.abs(a - q.answer) <= q.tolerance), `${f}: ${p.title}`).toBe(true)
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3)
  })
})

describe('malformed lessons name the field', () => {
  it.each([
    ['not an object', [], /^lesson: expected a JSON object/],
    ['unknown top-level key', { ...lessonWith(page()), script: 'alert(1)' }, /^lesson\.script: unknown key; allowed: id, title, summary, pages/],
    ['bad id', { ...lessonWith(page()), id: '../etc' }, /^id: got "\.\.\/etc"; allowed: lower-case letters/],
    ['no pages', lessonWith(), /^pages: expected 1 to 40 pages/],
    ['empty text', lessonWith(page({ text: [] })), /^pages\[0\]\.text: expected 1 to 20 paragraphs/],
    ['a paragraph not text', lessonWith(page({ text: ['ok', 3] })), /^pages\[0\]\.text\[1\]: expected text/],
    ['unknown page key', lessonWith(page({ html: '<b>' })), /^pages\[0\]\.html: unknown key; allowed: title, text, actions, question/],
    ['unknown action', lessonWith(page({ actions: [{ eval: 'x' }] })), /^pages\[0\]\.actions\[0\]: names no action; allowed: set, preset, press/],
    ['unknown config key', lessonWith(page({ actions: [{ set: { betta: 0.1 } }] })), /^pages\[0\]\.actions\[0\]\.set\.betta: unknown key; allowed keys: task, seed/],
    ['config value out of range', lessonWith(page({ actions: [{ set: { beta: -1 } }] })), /^pages\[0\]\.actions\[0\]\.set\.beta: got -1; allowed: a number from 0 to 10/],
    ['config breaking a cross-key rule', lessonWith(page({ actions: [{ preset: 'echo' }, { set: { n_head: 3 } }] })), /^pages\[0\]\.actions\[1\]\.set\.n_head: n_head = 3 does not divide n_embd = 32/],
    ['unknown preset', lessonWith(page({ actions: [{ preset: 'turbo' }] })), /^pages\[0\]\.actions\[0\]\.preset: got "turbo"; allowed: addition, .*echo/],
    ['unknown control', lessonWith(page({ actions: [{ press: 'export' }] })), /^pages\[0\]\.actions\[0\]\.press: got "export"; allowed: step, start, pause, reset/],
    ['too many steps', lessonWith(page({ actions: [{ press: 'step', times: 500 }] })), /^pages\[0\]\.actions\[0\]\.times: got 500; allowed: an integer from 1 to 50/],
    ['times on start', lessonWith(page({ actions: [{ press: 'start', times: 2 }] })), /^pages\[0\]\.actions\[0\]\.times: only "press": "step" takes times/],
    ['worksheet group 0', lessonWith(page({ actions: [{ worksheet: { group: 0 } }] })), /^pages\[0\]\.actions\[0\]\.worksheet\.group: got 0; allowed: an integer from 1 to 64/],
    ['typed worksheet numbers', lessonWith(page({ actions: [{ worksheet: { typed: { groups: [{ rewards: [1], completions: [] }] } } }] })), /^pages\[0\]\.actions\[0\]\.worksheet\.typed: groups\[0\]\.rewards: needs at least 2 values/],
    ['unknown highlight', lessonWith(page({ actions: [{ highlight: 'body' }] })), /^pages\[0\]\.actions\[0\]\.highlight: got "body"; allowed: null \(none\), Run controls/],
    ['question kind', lessonWith(page({ question: { prompt: 'Q?', kind: 'essay' } })), /^pages\[0\]\.question\.kind: got "essay"; allowed: largest-advantage, metric, number, choice/],
    ['choice answer out of range', lessonWith(page({ question: { prompt: 'Q?', kind: 'choice', options: ['a', 'b'], answer: 3 } })), /^pages\[0\]\.question\.answer: got 3; allowed: an integer from 1 to 2/],
    ['metric name', lessonWith(page({ question: { prompt: 'Q?', kind: 'metric', metric: 'a b', tolerance: 0.1 } })), /^pages\[0\]\.question\.metric: got "a b"; allowed: a metric name/],
    ['missing tolerance', lessonWith(page({ question: { prompt: 'Q?', kind: 'number', answer: 1 } })), /^pages\[0\]\.question\.tolerance: got undefined; allowed: a number from 0/],
  ])('%s', (_name, json, message) => {
    expect(refusal(json)).toMatch(message)
  })

  it('the file must carry the id it was asked for', () => {
    expect(() => parseLesson(lessonWith(page()), 'other')).toThrow(/^id: the file lessons\/other\.json says id "x"; they must match/)
  })

  it('text that is not JSON, or too deep, is refused before parsing', () => {
    expect(() => parseLessonText('{"id": ')).toThrow(/^file: not valid JSON/)
    expect(() => parseLessonText('['.repeat(100) + ']'.repeat(100))).toThrow(/^file: /)
  })

  it('a set is checked against the configuration the lesson built so far (its presets and sets in order)', () => {
    // fine on the echo preset (n_embd 32), refused on the defaults (n_embd 64 is not a multiple of 3 either; 48 is)
    expect(() => parseLesson(lessonWith(page({ actions: [{ preset: 'echo' }, { set: { n_embd: 48, base_model: '', n_head: 3 } }] })))).not.toThrow()
    expect(refusal(lessonWith(page({ actions: [{ set: { n_head: 3 } }] })))).toMatch(/set\.n_head: n_head = 3 does not divide n_embd = 64/)
  })
})

describe('lesson text', () => {
  it('splits code, bold and TeX from plain text; HTML stays text', () => {
    expect(lessonPieces('a `b` **c** $x^2$ and $$\\frac{1}{2}$$ <img src=x onerror=alert(1)> costs \\$5')).toEqual([
      { kind: 'text', text: 'a ' }, { kind: 'code', text: 'b' }, { kind: 'text', text: ' ' }, { kind: 'bold', text: 'c' },
      { kind: 'text', text: ' ' }, { kind: 'tex', tex: 'x^2', display: false }, { kind: 'text', text: ' and ' },
      { kind: 'tex', tex: '\\frac{1}{2}', display: true }, { kind: 'text', text: ' <img src=x onerror=alert(1)> costs $5' },
    ])
  })
})

describe('answers', () => {
  const metricQ: LessonQuestion = { prompt: 'Q', kind: 'metric', metric: 'loss', tolerance: 0.01 }
  it('largest advantage: any of a tie is right, another completion is refused', () => {
    expect(largestAdvantage([0.5, -1, 0.5, 0])).toEqual([1, 3])
    const q: LessonQuestion = { prompt: 'Q', kind: 'largest-advantage' }
    const live = { advantages: [0.5, -1.5, 0.5, 0.5] }
    expect(checkAnswer(q, '3', live).right).toBe(true)
    expect(checkAnswer(q, '2', live)).toEqual({ right: false, message: 'Completion 2 has advantage -1.5; another one is larger. Try again.' })
    expect(checkAnswer(q, '9', live).message).toBe('Type a completion number from 1 to 4.')
    expect(checkAnswer(q, '1', {}).right).toBe(false)
  })
  it('a metric within its tolerance of the latest step, absolute or relative', () => {
    expect(checkAnswer(metricQ, '0,004', { metrics: { loss: 0 } }).right).toBe(true)
    expect(checkAnswer(metricQ, '0.02', { metrics: { loss: 0 } }).right).toBe(false)
    expect(checkAnswer(metricQ, '1', { metrics: {} }).message).toMatch(/does not log loss/)
    expect(checkAnswer(metricQ, '1', {}).message).toMatch(/no step to read yet/)
    const kl: LessonQuestion = { prompt: 'Q', kind: 'metric', metric: 'kl', tolerance: 0, relative: 0.05 }
    expect(checkAnswer(kl, '0.00123', { metrics: { kl: 0.0012345 } }).right).toBe(true)
    expect(checkAnswer(kl, '0.0011', { metrics: { kl: 0.0012345 } }).right).toBe(false)
  })
  it('a typed answer must be a number; choices by their 1-based index', () => {
    expect(checkAnswer(metricQ, 'zero', { metrics: { loss: 0 } }).message).toMatch(/is not a number/)
    expect(checkAnswer({ prompt: 'Q', kind: 'number', answer: -1.5, tolerance: 0.01 }, '−1.5', {}).right).toBe(true)
    const choice: LessonQuestion = { prompt: 'Q', kind: 'choice', options: ['a', 'b'], answer: 2 }
    expect(checkAnswer(choice, '2', {}).right).toBe(true)
    expect(checkAnswer(choice, '1', {}).right).toBe(false)
  })
  it('first mixed group: the first whose rewards differ, else the first', () => {
    const g = (...r: number[]) => ({ completions: r.map((reward) => ({ reward })) })
    expect(firstMixedGroup([g(0.1, 0.1), g(0, 0), g(1.1, 0.1)])).toBe(2)
    expect(firstMixedGroup([g(0.1, 0.1)])).toBe(0)
  })
})
