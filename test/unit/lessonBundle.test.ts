// The offline lesson file around the bundle: what each shipped lesson needs packed (read off its
// actions as the page runs them), and a file opened again — the real lesson and model come back
// checked; a bad lesson, a file that is not a model, or a model that is not the shipped one of its
// name is refused naming the file inside.
import { readFileSync } from 'node:fs'
import { strToU8 } from 'fflate'
import { describe, expect, it } from 'vitest'
import { BundleError, packBundle } from '../../src/lab/bundle'
import { lessonNeeds, openLessonFile } from '../../src/lab/lessonBundle'
import { parseLessonIndex, parseLessonText } from '../../src/lessons/lesson'
import { SHIPPED_MODELS } from '../../src/model/shipped'

const lessonText = (id: string) => readFileSync(new URL(`../../public/lessons/${id}.json`, import.meta.url), 'utf8')
const model = (name: string) => new Uint8Array(readFileSync(new URL(`../../public/models/${name}.safetensors`, import.meta.url)))
const lesson = (id: string) => parseLessonText(lessonText(id), id)
const replay = (id: string) => readFileSync(new URL(`../../public/replays/${id}.json`, import.meta.url), 'utf8')

const refused = (bytes: Uint8Array) => {
  try { openLessonFile(bytes); return 'accepted' } catch (e) { expect(e).toBeInstanceOf(BundleError); return (e as Error).message }
}

describe('lesson needs', () => {
  it('names the presets each lesson chooses and the shipped base models its runs start from', () => {
    const index = parseLessonIndex(JSON.parse(lessonText('index')))
    expect(index.length).toBe(6)
    for (const e of index) {
      const needs = lessonNeeds(lesson(e.id))
      const presets = lesson(e.id).pages.flatMap((p) => p.actions.flatMap((a) => ('preset' in a ? [a.preset] : [])))
      // every preset it chooses is there (a run whose configuration is a preset adds that one)
      for (const p of presets) expect(needs.presets).toContain(p)
      for (const m of needs.models) expect(Object.keys(SHIPPED_MODELS)).toContain(m)
    }
    // the addition demo's runs start from the shipped addition model; the echo toy's from fresh weights
    expect(lessonNeeds(lesson('group-advantage'))).toEqual({ presets: ['addition'], models: ['addition'] })
    expect(lessonNeeds(lesson('cold-start'))).toEqual({ presets: ['addition', 'cold-start'], models: ['addition'] })
    // its second run (echo at β = 0.04) is the echo-kl preset's: its replay goes in the file too
    expect(lessonNeeds(lesson('kl-penalty'))).toEqual({ presets: ['echo', 'echo-kl'], models: [] })
  })
})

describe('opening a lesson file', () => {
  it('gives back the lesson checked, its replays and its models, byte for byte', () => {
    const text = lessonText('group-advantage')
    const bytes = packBundle({ lessonId: 'group-advantage', lesson: text, replays: new Map([['addition', replay('addition')]]), models: new Map([['addition', model('addition')]]) })
    // a model is stored, not deflated: the file is at least as large as the model
    expect(bytes.length).toBeGreaterThan(model('addition').length)
    const opened = openLessonFile(bytes)
    expect(opened.lesson).toEqual(lesson('group-advantage'))
    expect(opened.text).toBe(text)
    expect(opened.replays).toEqual({ addition: replay('addition') })
    expect(Buffer.from(opened.models.addition).equals(Buffer.from(model('addition')))).toBe(true)
  })

  it('refuses a bad lesson, replay or model, and a replay or model that is not the one of its name', () => {
    const pack = (lessonText: string, models: [string, Uint8Array][] = [], replays: [string, string][] = []) =>
      packBundle({ lessonId: 'l1', lesson: lessonText, replays: new Map(replays), models: new Map(models) })
    const ok = lessonText('kl-penalty').replace('"id": "kl-penalty"', '"id": "l1"')
    expect(refused(pack(ok))).toBe('accepted')
    expect(refused(pack(ok.replace('"beta": 0.04', '"beta": -1')))).toMatch(/^lesson file: lessons\/l1\.json is not a valid lesson — pages\[\d+\]\.actions\[\d+\]\.set\.beta: got -1/)
    expect(refused(pack('{"id": "other"}'))).toContain('lessons/l1.json is not a valid lesson — ')
    expect(refused(pack(ok, [['addition', strToU8('not a model')]]))).toContain('lesson file: models/addition.safetensors is not a model this lab can load — ')
    expect(refused(pack(ok, [['addition', model('countdown')]]))).toContain('models/addition.safetensors is not the shipped model addition')
    expect(refused(pack(ok, [], [['echo', '{"format": 1}']]))).toContain('lesson file: replays/echo.json is not a replay this lab can play — ')
    expect(refused(pack(ok, [], [['addition', replay('echo')]]))).toBe('lesson file: replays/addition.json is the replay of preset echo; allowed: the replay of addition')
    // a model of another name is kept as it is
    expect(Object.keys(openLessonFile(pack(ok, [['mine', model('countdown')]])).models)).toEqual(['mine'])
  })
})
