// The offline lesson file: "Download for offline use" packs a lesson with its base model (and the
// replays of its presets, once the site has them); a fresh browser with every request to
// lessons/, models/ and replays/ refused opens that file and walks the lesson's first pages —
// a real GRPO step on the addition demo, from the model in the file, and the file's replay. A corrupt file, and one
// whose lesson is malformed, are refused naming what is wrong; the open lesson and run stay.
// The addition demo runs on the fast CPU backend (?backend=cpu): about a second a step.
import { existsSync, readFileSync } from 'node:fs'
import { expect, test } from '@playwright/test'
import { packBundle, unpackBundle } from '../src/lab/bundle'
import { parseLessonText } from '../src/lessons/lesson'
import { download, openLab, shownStep, TRAINING_LIMIT } from './helpers'

const ID = 'group-advantage'
const publicFile = (path: string) => new URL(`../public/${path}`, import.meta.url)
const LESSON_TEXT = readFileSync(publicFile(`lessons/${ID}.json`), 'utf8')
const LESSON = parseLessonText(LESSON_TEXT, ID)

test('a lesson downloaded for offline use opens from its file with lessons/, models/ and replays/ blocked, and trains; a bad file is refused', async ({ page, browser }) => {
  test.setTimeout(TRAINING_LIMIT)
  const t0 = Date.now()
  await openLab(page, `#v=1&lesson=${ID}`, '?backend=cpu')
  const panel = page.getByRole('region', { name: 'Lesson' })
  await expect(panel).toContainText(`Lesson: ${LESSON.title}`)
  const file = await download(page, 'Download for offline use')
  expect(file.name).toBe(`${ID}.grpo-lesson.zip`)

  // the file: the lesson as the site has it, the addition base model byte for byte, and the
  // replay of the addition preset exactly when the site has one (said in the panel when not)
  const b = unpackBundle(new Uint8Array(file.bytes))
  expect(b.lessonId).toBe(ID)
  expect(b.lesson).toBe(LESSON_TEXT)
  expect([...b.models.keys()]).toEqual(['addition'])
  expect(Buffer.from(b.models.get('addition')!).equals(readFileSync(publicFile('models/addition.safetensors')))).toBe(true)
  const status = panel.getByRole('status', { name: 'Offline lesson file' })
  await expect(status).toContainText(`Saved ${ID}.grpo-lesson.zip`)
  if (existsSync(publicFile('replays/addition.json'))) {
    expect(b.replays.get('addition')).toBe(readFileSync(publicFile('replays/addition.json'), 'utf8'))
  } else {
    expect(b.replays.size).toBe(0)
    await expect(status).toContainText('No replay yet for: replays/addition.json is not on this site')
  }
  console.log(`lesson file ${file.name}: ${file.bytes.length} bytes`)

  // a fresh browser (no storage), nothing of lessons/, models/ or replays/ reachable
  const context = await browser.newContext()
  const offline = await context.newPage()
  const refused: string[] = []
  await offline.route(/\/(lessons|models|replays)\//, (route) => {
    refused.push(new URL(route.request().url()).pathname)
    return route.abort('internetdisconnected')
  })
  await openLab(offline, '', '?backend=cpu')
  await offline.getByLabel('Lesson file', { exact: true }).setInputFiles({ name: file.name, mimeType: 'application/zip', buffer: file.bytes })
  const lesson = offline.getByRole('region', { name: 'Lesson' })
  await expect(lesson).toContainText(`Lesson: ${LESSON.title}`)
  await expect(lesson.getByLabel('Lesson source')).toContainText('Opened from a lesson file')
  expect(offline.url()).toContain(`lesson=${ID}`)
  const busy = lesson.locator('.lesson')
  const heading = lesson.getByRole('heading', { level: 2 })

  // page 1 chose the addition preset: its runs start from the file's model
  await expect(heading).toHaveText(LESSON.pages[0].title)
  await expect(busy).toHaveAttribute('data-busy', 'false')
  await expect(offline.getByLabel('Starts from')).toHaveText('addition (from the lesson file opened here)')
  // page 2 takes a GRPO step; its question is answered off the traces
  await lesson.getByRole('button', { name: 'Next page' }).click()
  await expect(heading).toHaveText(LESSON.pages[1].title)
  await expect(busy).toHaveAttribute('data-busy', 'false', { timeout: TRAINING_LIMIT })
  expect(await shownStep(offline)).toBe(1)
  await expect(offline.getByRole('img', { name: 'Reward chart' })).toHaveAttribute('data-points', '1')
  const q = LESSON.pages[1].question!
  expect(q.kind).toBe('choice')
  await lesson.getByRole('radio').nth((q as { answer: number }).answer - 1).check()
  await lesson.getByRole('button', { name: 'Check' }).click()
  await expect(lesson.getByLabel('Answer check')).toHaveText(/^Right/)
  // page 3: the worksheet on a group of that step
  await lesson.getByRole('button', { name: 'Next page' }).click()
  await expect(heading).toHaveText(LESSON.pages[2].title)
  await expect(busy).toHaveAttribute('data-busy', 'false')
  await expect(offline.getByRole('table', { name: 'Worksheet per completion' })).toBeVisible()
  await expect(offline.getByRole('alert')).toHaveCount(0)
  // nothing of models/ or replays/ was asked for; of lessons/ only the list of other lessons
  expect(refused.filter((p) => !p.endsWith('/lessons/index.json'))).toEqual([])

  // a corrupt file, and a lesson file whose lesson is malformed: each named; the lesson and run stay
  const alerts = offline.locator('.alerts').getByRole('alert')
  await offline.getByLabel('Lesson file', { exact: true }).setInputFiles({ name: 'broken.grpo-lesson.zip', mimeType: 'application/zip', buffer: Buffer.from('this is not a zip') })
  await expect(alerts.last()).toContainText('broken.grpo-lesson.zip could not be opened — lesson file: not a .zip the lab can read')
  await expect(alerts.last()).toContainText('Nothing was changed.')
  const bad = packBundle({ lessonId: 'bad-lesson', lesson: LESSON_TEXT.replace(`"id": "${ID}"`, '"id": "bad-lesson"').replace('"answer": 2', '"answer": 9'), replays: new Map(), models: new Map() })
  await offline.getByLabel('Lesson file', { exact: true }).setInputFiles({ name: 'bad-lesson.grpo-lesson.zip', mimeType: 'application/zip', buffer: Buffer.from(bad) })
  await expect(alerts.last()).toContainText('bad-lesson.grpo-lesson.zip could not be opened — lesson file: lessons/bad-lesson.json is not a valid lesson — pages[1].question.answer: got 9; allowed: an integer from 1 to 3')
  await expect(heading).toHaveText(LESSON.pages[2].title)
  expect(await shownStep(offline)).toBe(1)
  expect(offline.url()).toContain(`lesson=${ID}`)
  await offline.getByRole('button', { name: 'Step', exact: true }).click()
  await expect(offline.getByLabel('Step', { exact: true })).toHaveText('2', { timeout: TRAINING_LIMIT })
  if (b.replays.has('addition')) {
    // the file's replay plays with replays/ blocked: the player takes it from the file (the default
    // demo's link: on a lesson link the lesson's own pages choose when a replay plays)
    await offline.evaluate(() => { location.hash = '#v=1&replay=1' })
    await expect(offline.getByRole('region', { name: 'Replay' }).getByLabel('Replay notice')).toContainText('Replay of a recorded run')
    await expect.poll(async () => Number(await offline.getByLabel('Replayed step').textContent()) || 0).toBeGreaterThan(1)
  }
  expect(refused.filter((p) => !p.endsWith('/lessons/index.json'))).toEqual([])
  await context.close()
  console.log(`offline spec: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
})
