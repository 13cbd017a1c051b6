// Every link opens a working lab: links whose keys conflict (the blank pages among them)
// open with Start enabled and an alert naming each refused key; a base model on another origin
// is named and fetched only after the visitor allows it, within a size cap.
import { expect, type Page, test } from '@playwright/test'
// @ts-expect-error plain ESM helper shared with the screenshots script
import { startModelServer } from '../scripts/model-server.mjs'
import { echoLink, openLab, shownStep } from './helpers'

const linkProblems = (page: Page) => page.getByRole('alert', { name: 'Link problems' })
const start = (page: Page) => page.getByRole('button', { name: 'Start', exact: true })

// [fragment, the keys refused (in order), keys the alert must not blame]
const CONFLICTING: [string, string[], string[]][] = [
  ['#v=1&n_embd=98', ['n_embd'], ['n_head']],
  ['#v=1&steps_per_generation=3&gradient_accumulation_steps=5', ['steps_per_generation', 'gradient_accumulation_steps'], ['num_generations', 'prompts_per_step']],
  ['#v=1&n_embd=98&gradient_accumulation_steps=9', ['n_embd', 'gradient_accumulation_steps'], ['n_head', 'steps_per_generation']],
  ['#v=1&n_embd=30&n_head=7&beta=0.04', ['n_head', 'n_embd'], []],
  ['#v=1&task=countdown', ['task'], ['base_model']],
  ['#v=1&max_completion_length=100&seed=3', ['max_completion_length'], ['block_size']],
  ['#v=1&base_model=&block_size=16', ['block_size'], ['max_completion_length']],
  ['#v=1&reward_weights=1,2,3', ['reward_weights'], ['task']],
  ['#v=1&task=echo&cold_start_steps=5&num_generations=3&steps_per_generation=5', ['steps_per_generation', 'cold_start_steps'], ['task', 'num_generations']],
]

test('links with conflicting keys open a usable lab that names each refused key', async ({ page }) => {
  for (const [fragment, refused, notBlamed] of CONFLICTING) {
    await page.goto('about:blank') // a fresh start-up each time, not a hashchange
    await openLab(page, fragment)
    const alert = linkProblems(page)
    const items = alert.getByRole('listitem')
    await expect(items).toHaveCount(refused.length)
    for (const [i, key] of refused.entries()) {
      await expect(items.nth(i).locator('code')).toHaveText(key)
      await expect(items.nth(i)).toContainText('allowed')
    }
    for (const key of notBlamed) await expect(alert.locator('code', { hasText: new RegExp(`^${key}$`) })).toHaveCount(0)
    // the refused keys show their defaults
    if (refused.includes('n_embd')) await expect(page.getByLabel('n_embd', { exact: true })).toHaveValue('64')
  }
  // the first link names what is allowed
  await page.goto('about:blank')
  await openLab(page, '#v=1&n_embd=98')
  await expect(linkProblems(page)).toContainText('n_head = 4 does not divide n_embd = 98; allowed: a multiple of n_head = 4 from 8 to 512')
})

test('a conflicting link trains: Start runs with the link\'s other keys and the defaults for the refused ones', async ({ page }) => {
  await openLab(page, echoLink() + '&steps_per_generation=3&gradient_accumulation_steps=5')
  await expect(linkProblems(page).getByRole('listitem')).toHaveCount(2)
  await expect(page.getByLabel('steps_per_generation', { exact: true })).toHaveValue('1')
  await expect(page.getByLabel('task', { exact: true })).toHaveValue('echo')
  await start(page).click()
  await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(2)
  await expect(page.getByRole('alert').filter({ hasNotText: 'This link has' })).toHaveCount(0)
})

test('a typed value that breaks a cross-key rule is refused on the spot, naming what is allowed', async ({ page }) => {
  await openLab(page, echoLink())
  const nHead = page.getByLabel('n_head', { exact: true })
  await nHead.fill('3')
  await nHead.press('Enter')
  await expect(page.getByRole('alert').filter({ hasText: 'n_head = 3 does not divide n_embd = 32' })).toContainText('allowed: 1, 2, 4, 8, 16')
  await expect(nHead).toHaveAttribute('aria-invalid', 'true')
  await expect(page.getByLabel('Share link')).toHaveValue(/n_head=2/) // the config kept its last good value
  await nHead.fill('4')
  await nHead.press('Enter')
  await expect(nHead).toHaveAttribute('aria-invalid', 'false')
})

test.describe('a base model from another origin', () => {
  let server: { origin: string; host: string; requests: string[]; close(): Promise<void> }
  test.beforeAll(async () => { server = await startModelServer() })
  test.afterAll(async () => { await server.close() })

  /** Requests the page (and its worker) made to the other origin. */
  function watch(page: Page): string[] {
    const seen: string[] = []
    page.on('request', (r) => { if (r.url().startsWith(server.origin)) seen.push(r.url()) })
    return seen
  }

  test('is named, nothing is fetched before Allow, then it loads and trains', async ({ page }) => {
    const seen = watch(page)
    server.requests.length = 0
    const url = `${server.origin}/models/addition.safetensors`
    await openLab(page, echoLink({ base_model: url }))
    const consent = page.getByRole('alert', { name: 'Base model from another site' })
    await expect(consent).toContainText(`on another site: ${server.host}`)
    await expect(page.getByLabel('Starts from')).toContainText(`from ${server.host}, only with your consent`)
    // Start does not fetch it either: it says why and offers fresh weights
    await start(page).click()
    await expect(page.getByRole('alert').filter({ hasText: 'Not started' })).toContainText(`another site, ${server.host}`)
    await expect(page.getByRole('button', { name: 'Train from fresh weights' })).toBeVisible()
    await expect(page.getByLabel('Run state')).toHaveText('idle')
    expect(seen).toEqual([])
    expect(server.requests).toEqual([])

    await consent.getByRole('button', { name: `Allow loading from ${server.host}` }).click()
    await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(1)
    expect(seen).toEqual([url])
    expect(server.requests).toEqual(['/models/addition.safetensors'])
    await expect(consent).toHaveCount(0)
    await expect(page.getByRole('alert')).toHaveCount(0)
  })

  // a stream is cut within a chunk or two of the cap (the browser's chunks, not the server's)
  for (const [file, why] of [['too-big', /the file is 48\.0 MiB, more than the 32 MiB/], ['no-length', /the download passed 3\d\.\d MiB, more than the 32 MiB/]] as const) {
    test(`over the size cap (${file === 'too-big' ? 'by its Content-Length' : 'while streaming'}) is refused, and fresh weights train`, async ({ page }) => {
      await openLab(page, echoLink({ base_model: `${server.origin}/${file}.safetensors` }))
      await page.getByRole('button', { name: `Allow loading from ${server.host}` }).click()
      const refusal = page.getByRole('alert').filter({ hasText: 'could not be loaded' })
      await expect(refusal).toContainText(why)
      await expect(refusal).toContainText(`${server.origin}/${file}.safetensors`)
      await refusal.getByRole('button', { name: 'Train from fresh weights' }).click()
      await expect.poll(() => shownStep(page)).toBeGreaterThanOrEqual(1)
      await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('')
    })
  }
})
