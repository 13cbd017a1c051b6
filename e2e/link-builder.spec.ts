// The teacher link builder: a link built with hidden knobs and panels and autostart opens in a
// new page with those controls hidden and the run training; its QR code holds the link; the lesson
// comes from lessons/index.json when there is one, else from a typed (checked) id; replay=1 is
// carried. The lesson list is served by the test (absent, malformed, a list) so that the spec
// does not depend on which lessons the repository ships.
import { expect, type Page, test } from '@playwright/test'
import qrcode from 'qrcode-generator'
import { echoLink, openLab, shownStep, TRAINING_LIMIT } from './helpers'

type LabWindow = { grpoLab: typeof import('../src/store/labStore').useLab }
const linkState = (page: Page) => page.evaluate(() => {
  const s = (globalThis as unknown as LabWindow).grpoLab.getState()
  return { hidden: s.hidden, lessonId: s.lessonId, replayWanted: s.replayWanted, autostart: s.autostart }
})

/** Serve lessons/index.json as the test says (status and body). */
const serveLessons = (page: Page, status: number, body: string) =>
  page.route('**/lessons/index.json', (route) => route.fulfill({ status, contentType: 'application/json', body }))

/** The QR code the builder draws, made again here from the link text: the same modules. */
function qrPath(text: string): string {
  const qr = qrcode(0, 'M')
  qr.addData(text)
  qr.make()
  let path = ''
  for (let r = 0; r < qr.getModuleCount(); r++) for (let c = 0; c < qr.getModuleCount(); c++) if (qr.isDark(r, c)) path += `M${c},${r}h1v1h-1z`
  return path
}

async function openBuilder(page: Page) {
  const builder = page.getByRole('region', { name: 'Link builder' })
  await builder.getByText('Teacher link builder').click()
  return builder
}

const HIDDEN_GROUP = ['learning_rate', 'lr_scheduler_type', 'weight_decay', 'adam_beta1', 'adam_beta2', 'max_grad_norm', 'reward_weights']

test('a built link hides the chosen knobs and panels, starts the run, and its QR code holds it', async ({ page }) => {
  test.setTimeout(TRAINING_LIMIT)
  const t0 = Date.now()
  await serveLessons(page, 404, 'not here')
  await openLab(page, echoLink({ max_steps: 40 }))
  const builder = await openBuilder(page)
  // no lesson list: a text field, checked, and a note
  await expect(builder.getByRole('note')).toContainText('No lesson list could be read (lessons/index.json: HTTP 404)')
  await builder.getByLabel('Lesson id').fill('Not An Id')
  await expect(builder.getByRole('alert')).toContainText('"Not An Id" is not a lesson id; allowed: lower-case letters')
  await expect(builder.getByLabel('Lesson link')).not.toHaveValue(/lesson=/)
  await builder.getByLabel('Lesson id').fill('kl-penalty')
  await expect(builder.getByRole('alert')).toHaveCount(0)

  await builder.getByLabel('Link hides worksheet').check()
  await builder.getByLabel('Link hides export').check()
  await builder.getByText('Hide knobs: GRPO loss').click()
  await builder.getByLabel('Link hides beta').check()
  await builder.getByText('Hide knobs: Optimizer and rewards').click()
  await builder.getByLabel('Link hides every knob of Optimizer and rewards').check()
  await expect(builder.getByText('Hide knobs: Optimizer and rewards')).toContainText(`(${HIDDEN_GROUP.length} of ${HIDDEN_GROUP.length} hidden)`)
  await expect(builder.getByLabel('Link starts the run')).toBeChecked()
  const link = await builder.getByLabel('Lesson link').inputValue()
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#v=1&.*&worksheet_hide=1&export_hide=1&beta_hide=1&learning_rate_hide=1&.*&autostart=1&lesson=kl-penalty$/)
  expect(link).not.toContain('replay=')
  // building hides nothing on this page
  await expect(page.getByLabel('beta', { exact: true })).toBeVisible()
  await expect(page.getByRole('region', { name: 'Export and import' })).toBeVisible()

  // the QR code: the link's modules, big enough to read across a room, larger still on demand
  const qr = builder.getByRole('img', { name: 'QR code of the link' })
  await expect(qr).toHaveAttribute('data-link', link)
  expect(await qr.locator('path').getAttribute('d')).toBe(qrPath(link))
  expect((await qr.boundingBox())!.width).toBeGreaterThanOrEqual(250)
  await builder.getByRole('button', { name: 'Show the QR code large' }).click()
  const large = page.getByRole('dialog', { name: 'QR code for the projector' }).getByRole('img')
  expect((await large.boundingBox())!.width).toBeGreaterThanOrEqual(500)
  await page.keyboard.press('Escape')
  await expect(large).toHaveCount(0)

  // the link in a new page: those controls hidden, the others there, the run training on its own
  const student = await page.context().newPage()
  await student.goto(link)
  await expect.poll(() => shownStep(student), { timeout: TRAINING_LIMIT }).toBeGreaterThanOrEqual(1)
  for (const key of ['beta', ...HIDDEN_GROUP]) await expect(student.getByLabel(key, { exact: true })).toHaveCount(0)
  // (max_steps is there, in a group the panel shows folded)
  for (const key of ['epsilon', 'num_generations', 'max_steps']) await expect(student.getByLabel(key, { exact: true })).toHaveCount(1)
  await expect(student.getByRole('region', { name: 'GRPO worksheet' })).toHaveCount(0)
  await expect(student.getByRole('region', { name: 'Export and import' })).toHaveCount(0)
  await expect(student.getByRole('region', { name: 'Traces' })).toBeVisible()
  expect(await linkState(student)).toEqual({
    hidden: ['worksheet', 'export', 'beta', ...HIDDEN_GROUP], lessonId: 'kl-penalty', replayWanted: false, autostart: true })
  await student.close()
  console.log(`link-builder spec (hide + autostart): ${((Date.now() - t0) / 1000).toFixed(1)} s`)
})

test('the lesson comes from lessons/index.json; replay=1 without autostart opens idle, asking for the recorded run', async ({ page }) => {
  // a malformed list: the text field and a note naming what is wrong
  await serveLessons(page, 200, '[{"id":"Bad Id"}]')
  await openLab(page, echoLink())
  let builder = await openBuilder(page)
  await expect(builder.getByRole('note')).toContainText('entry 0: id "Bad Id"; allowed: a lesson id')
  await expect(builder.getByLabel('Lesson id')).toBeVisible()

  await page.unroute('**/lessons/index.json')
  await serveLessons(page, 200, JSON.stringify({ lessons: [{ id: 'groups', title: 'What a group is' }, { id: 'kl-penalty', title: 'The KL penalty' }] }))
  await page.reload()
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  builder = await openBuilder(page)
  const lesson = builder.getByLabel('Lesson', { exact: true })
  await expect(lesson.locator('option')).toHaveText(['(no lesson)', 'What a group is', 'The KL penalty'])
  await lesson.selectOption({ label: 'The KL penalty' })
  await builder.getByLabel('Play the recorded run').check()
  await builder.getByLabel('Link starts the run').uncheck()
  const link = await builder.getByLabel('Lesson link').inputValue()
  expect(link).toMatch(/&lesson=kl-penalty&replay=1$/)
  expect(link).not.toContain('autostart')
  await expect(builder.getByRole('img', { name: 'QR code of the link' })).toHaveAttribute('data-link', link)

  const student = await page.context().newPage()
  await openLab(student, link.slice(link.indexOf('#')))
  expect(await linkState(student)).toEqual({ hidden: [], lessonId: 'kl-penalty', replayWanted: true, autostart: false })
  await expect(student.getByLabel('Run state')).toHaveText('idle')
  await student.close()
})
