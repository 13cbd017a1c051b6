// The offline lesson file: what is packed comes back byte for byte; a file that is not one, or
// lies about its contents, is refused with a message naming what is wrong.
import { strToU8, zipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { BUNDLE_FORMAT, BundleError, type LessonBundle, packBundle, unpackBundle } from '../../src/lab/bundle'

const bundle = (): LessonBundle => ({
  lessonId: 'group-advantage',
  lesson: JSON.stringify({ id: 'group-advantage', title: 'Groups — “advantage”' }),
  replays: new Map([['echo', '{"format":"grpo-lab/replay"}']]),
  models: new Map([['addition', Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 255)]]),
})

const zipOf = (files: Record<string, string>) => zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)])))
const manifest = (extra: object = {}) => JSON.stringify({ format: BUNDLE_FORMAT, version: 1, lesson: 'l1', replays: [], models: [], ...extra })

describe('lesson bundle', () => {
  it('round-trips the lesson, its replays and models exactly', () => {
    const b = bundle()
    const back = unpackBundle(packBundle(b))
    expect(back.lessonId).toBe(b.lessonId)
    expect(back.lesson).toBe(b.lesson)
    expect([...back.replays]).toEqual([...b.replays])
    expect([...back.models.keys()]).toEqual(['addition'])
    expect(Array.from(back.models.get('addition')!)).toEqual(Array.from(b.models.get('addition')!))
  })

  it('refuses what is not a lesson file, naming what is wrong', () => {
    const refused = (bytes: Uint8Array) => { try { unpackBundle(bytes); return 'accepted' } catch (e) { expect(e).toBeInstanceOf(BundleError); return (e as Error).message } }
    expect(refused(strToU8('hello'))).toContain('not a .zip')
    expect(refused(zipOf({ 'x.txt': 'x' }))).toContain('no bundle.json')
    expect(refused(zipOf({ 'bundle.json': '[1]' }))).toContain('not a JSON object')
    expect(refused(zipOf({ 'bundle.json': manifest({ format: 'other' }) }))).toContain('allowed: "grpo-lab/lesson-bundle"')
    expect(refused(zipOf({ 'bundle.json': manifest({ version: 2 }) }))).toContain('reads version 1')
    expect(refused(zipOf({ 'bundle.json': manifest({ lesson: '../x' }) }))).toContain('lower-case letters')
    expect(refused(zipOf({ 'bundle.json': manifest() }))).toContain('lists lessons/l1.json, but the .zip has no such file')
    expect(refused(zipOf({ 'bundle.json': manifest({ replays: ['a', 'a'] }), 'lessons/l1.json': '{}', 'replays/a.json': '{}' }))).toContain('listed twice')
    expect(refused(zipOf({ 'bundle.json': manifest({ models: 'addition' }), 'lessons/l1.json': '{}' }))).toContain('models must be an array')
    expect(refused(zipOf({ 'bundle.json': manifest({ models: ['m'] }), 'lessons/l1.json': '{}' }))).toContain('models/m.safetensors')
    const bad = zipSync({ 'bundle.json': strToU8(manifest()), 'lessons/l1.json': Uint8Array.of(0xff, 0xfe, 0x00) })
    expect(refused(bad)).toContain('not UTF-8')
  })

  it('refuses names a bundle could use to write outside its folders', () => {
    expect(() => packBundle({ ...bundle(), replays: new Map([['../../x', '{}']]) })).toThrow(/replay "..\/..\/x" is not a name/)
  })
})
