// Screenshots of the lab mid-run for the README: builds nothing, serves dist/ (run
// `npx vite build` first) with vite preview, drives headless Chromium, writes docs/lab-*.png.
// Also prints how long the default page takes to become usable (Start enabled).
//   node scripts/screenshots.mjs [--base file.safetensors] [--only name,name]
// --base: an addition base model to start the traces shot from (copied to dist/models/), for
// when public/models/ ships none yet; the traces of a fresh model are random characters.
// --only: just these shots (echo, addition-traces, worksheet, bad-link, consent), no timing.
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync } from 'node:fs'
import { chromium } from '@playwright/test'
import { CHROMIUM_ARGS, findChromium } from './chromium.mjs'
import { startModelServer } from './model-server.mjs'

const PORT = 4176
const BASE = `http://127.0.0.1:${PORT}/`
const ECHO = '#v=1&task=echo&seed=1&n_layer=1&n_head=2&n_embd=32&block_size=16&num_generations=8&prompts_per_step=8&max_completion_length=4&learning_rate=0.005&max_steps=150'

const baseArg = process.argv.indexOf('--base')
let additionLink = '#v=1&seed=1'
if (baseArg > 0) {
  mkdirSync('dist/models', { recursive: true })
  copyFileSync(process.argv[baseArg + 1], 'dist/models/addition-screenshot.safetensors')
  additionLink = '#v=1&seed=1&base_model=addition-screenshot'
}

const onlyArg = process.argv.indexOf('--only')
const only = onlyArg > 0 ? process.argv[onlyArg + 1].split(',') : null
const wanted = (name) => !only || only.includes(name)

const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], { stdio: 'ignore', detached: true })
const stop = () => { try { process.kill(-server.pid) } catch { /* already gone */ } }
try {
  for (let i = 0; i < 50; i++) {
    try { if ((await fetch(BASE)).ok) break } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200))
  }
  const browser = await chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS })
  const start = (page) => page.getByRole('button', { name: 'Start', exact: true })

  // time to usable: navigation → Start enabled (fresh context each time: no cache)
  const times = []
  for (let i = 0; i < (only ? 0 : 3); i++) {
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    const t0 = Date.now()
    await page.goto(BASE)
    await start(page).waitFor()
    await page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Start' && !b.disabled))
    times.push(Date.now() - t0)
    await ctx.close()
  }
  if (times.length) console.log(`default page usable (Start enabled) after ${times.join(', ')} ms`)

  const shoot = async (name, fragment, { steps, viewport = { width: 1440, height: 1500 }, then } = {}) => {
    if (!wanted(name)) return
    const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1 })
    const page = await ctx.newPage()
    await page.goto(BASE + fragment)
    await start(page).click()
    await page.waitForFunction((n) => Number(document.querySelector('[aria-label="Step"]')?.textContent) >= n, steps, { timeout: 300_000 })
    await page.getByRole('button', { name: 'Pause' }).click()
    await page.waitForFunction(() => document.querySelector('[aria-label="Run state"]')?.textContent === 'paused', null, { timeout: 120_000 })
    if (then) await then(page)
    await page.waitForTimeout(800)
    await page.screenshot({ path: `docs/lab-${name}.png` })
    console.log(`docs/lab-${name}.png`)
    await ctx.close()
  }
  // the toy mid-run: reward climbing, length and entropy falling
  await shoot('echo', ECHO, { steps: 70 })
  // the headline task, a few steps in: traces with <think> and <answer>
  await shoot('addition-traces', additionLink, {
    steps: 3,
    then: async (page) => { await page.evaluate(() => document.querySelector('[aria-label="Traces"]')?.scrollIntoView()) },
  })
  // the worksheet on a live group
  await shoot('worksheet', ECHO, {
    steps: 25, viewport: { width: 1440, height: 1300 },
    then: async (page) => {
      const sheet = page.getByRole('region', { name: 'GRPO worksheet' })
      await sheet.getByLabel('Worksheet source').selectOption('2')
      await page.evaluate(() => document.querySelector('[aria-label="GRPO worksheet"]')?.scrollIntoView())
    },
  })
  // what a visitor sees before pressing anything: a link with conflicting keys, and a base
  // model on another site waiting for consent
  const still = async (name, fragment, ready) => {
    if (!wanted(name)) return
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 })
    const page = await ctx.newPage()
    await page.goto(BASE + fragment)
    await page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Start' && !b.disabled))
    await page.getByRole('alert', { name: ready }).waitFor()
    await page.screenshot({ path: `docs/lab-${name}.png` })
    console.log(`docs/lab-${name}.png`)
    await ctx.close()
  }
  await still('bad-link', '#v=1&n_embd=98&gradient_accumulation_steps=9&beta=0.04', 'Link problems')
  const models = await startModelServer()
  try {
    await still('consent', `#v=1&seed=1&base_model=${models.origin}/models/addition.safetensors`, 'Base model from another site')
  } finally { await models.close() }
  await browser.close()
} finally {
  stop()
}
