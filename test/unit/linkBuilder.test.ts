// The teacher link builder: the lesson list read strictly, and every link it makes opens as built
// (what it hides, autostart, the lesson, replay) and fits in a QR code.
import qrcode from 'qrcode-generator'
import { describe, expect, it } from 'vitest'
import { HIDEABLE_PANELS, parseLink } from '../../src/lab/link'
import { builderLink, lessonIdProblem, parseLessonIndex } from '../../src/lab/linkBuilder'
import { ECHO_VALUES } from '../../src/lab/presets'
import { RUN_CONFIG_SPEC, resolveRunConfig } from '../../src/rl/config'

describe('the lesson list', () => {
  it('reads a list of {id, title}, of ids, or {lessons: …}', () => {
    expect(parseLessonIndex('[{"id":"groups","title":"What a group is"},{"id":"kl-penalty"}]'))
      .toEqual({ lessons: [{ id: 'groups', title: 'What a group is' }, { id: 'kl-penalty', title: 'kl-penalty' }] })
    expect(parseLessonIndex('["a-1","b-2"]')).toEqual({ lessons: [{ id: 'a-1', title: 'a-1' }, { id: 'b-2', title: 'b-2' }] })
    expect(parseLessonIndex('{"lessons":[{"id":"x","title":" X "}]}')).toEqual({ lessons: [{ id: 'x', title: 'X' }] })
  })

  it('refuses what is not such a list, naming what is wrong and what is allowed', () => {
    const error = (text: string) => (parseLessonIndex(text) as { error: string }).error
    expect(error('<html>not found</html>')).toMatch(/^not JSON this lab reads .*expected a JSON list/)
    expect(error('{"pages":[]}')).toMatch(/^expected a JSON list of \{"id", "title"\}/)
    expect(error('[{"id":"Bad Id"}]')).toBe('entry 0: id "Bad Id"; allowed: a lesson id (lower-case letters, digits and dashes, at most 40)')
    expect(error('[{"title":"no id"}]')).toMatch(/^entry 0: id undefined; allowed/)
    expect(error('["a","a"]')).toBe('entry 1: the id a is listed twice')
    expect(error('[{"id":"a","title":5}]')).toBe('entry 0 (a): title must be text of at most 200 characters')
  })
})

describe('the links it makes', () => {
  const config = resolveRunConfig({ ...ECHO_VALUES, beta: 0.04 })
  const page = 'https://lab.example/grpo/?backend=cpu#v=1&seed=9'

  it('open as built: hidden keys and panels, autostart, lesson, replay; the page address kept, its old fragment dropped', () => {
    const hidden = ['beta', 'learning_rate', 'worksheet', 'export']
    const link = builderLink(page, config, { hidden, autostart: true, lesson: 'kl-penalty', replay: true })
    expect(link.startsWith('https://lab.example/grpo/?backend=cpu#v=1&')).toBe(true)
    const parsed = parseLink(link)
    expect(parsed.problems).toEqual([])
    expect(resolveRunConfig(parsed.values)).toEqual(config)
    expect(parsed).toMatchObject({ hidden, autostart: true, lesson: 'kl-penalty', replay: true })
    expect(parseLink(builderLink(page, config, { hidden: [], autostart: false, lesson: '', replay: false })))
      .toMatchObject({ hidden: [], autostart: false, lesson: null, replay: false })
  })

  it('hiding everything still opens as built and fits in a QR code', () => {
    const hidden = [...HIDEABLE_PANELS, ...Object.keys(RUN_CONFIG_SPEC)]
    const link = builderLink(page, config, { hidden, autostart: true, lesson: 'a-lesson-with-a-long-name-of-40-chars-x', replay: true })
    expect(parseLink(link).hidden).toEqual(hidden)
    const qr = qrcode(0, 'M')
    qr.addData(link)
    qr.make()
    expect(qr.getModuleCount()).toBeGreaterThan(21)
  })

  it('a typed lesson id that is not one is named and never written', () => {
    expect(lessonIdProblem('')).toBeNull()
    expect(lessonIdProblem('kl-penalty')).toBeNull()
    expect(lessonIdProblem('../etc')).toMatch(/is not a lesson id; allowed: lower-case letters/)
    expect(builderLink(page, config, { hidden: [], autostart: false, lesson: '../etc', replay: false })).not.toContain('lesson=')
  })
})
