// No script from anywhere but the page: the built page carries a Content-Security-Policy (a meta
// tag added at build time, see vite.config.ts), the lab works under it without one violation,
// injected inline script, inline handlers and eval are blocked, and hostile values in run files
// and links are shown as text.
import { expect, type Page, test } from '@playwright/test'
import { makeRunFile } from '../src/lab/runFile'
import { ECHO_VALUES } from '../src/lab/presets'
import { resolveRunConfig } from '../src/rl/config'
import type { TraceRecord } from '../src/rl/trainer'
import { echoLink, openLab } from './helpers'

const IMG = '<img src=x onerror=window.__pwned=1>'
const SCRIPT = '<script>window.__pwned=1</script>'

type Watched = Window & { __violations: string[]; __pwned?: number; __inline?: number; __handler?: number }

/** Collect every CSP violation the page reports (events and console), from before its first script. */
async function watchPolicy(page: Page): Promise<string[]> {
  const console: string[] = []
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) console.push(m.text()) })
  await page.addInitScript(() => {
    const w = window as unknown as Watched
    w.__violations = []
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`))
  })
  return console
}

const violations = (page: Page) => page.evaluate(() => (window as unknown as Watched).__violations)
const pwned = (page: Page) => page.evaluate(() => (window as unknown as Watched).__pwned)

test('the built page carries a Content-Security-Policy: own scripts and worker only, no eval, no plugins', async ({ page }) => {
  await openLab(page, echoLink())
  const content = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')
  const directives = new Map((content ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values.join(' ')]))
  expect(directives.get('default-src')).toBe("'self'")
  // no 'unsafe-inline', no 'unsafe-eval'; 'wasm-unsafe-eval' compiles WebAssembly only (the fast CPU backend's kernels)
  expect(directives.get('script-src')).toBe("'self' 'wasm-unsafe-eval'")
  expect(directives.get('worker-src')).toBe("'self'")
  expect(directives.get('connect-src')).toBe("'self' https:")
  expect(directives.get('object-src')).toBe("'none'")
  expect(directives.get('base-uri')).toBe("'none'")
  expect(directives.get('form-action')).toBe("'none'")
})

test('the lab works under the policy: a run, the worksheet and every export without a violation', async ({ page }) => {
  const console = await watchPolicy(page)
  await openLab(page, echoLink({ max_steps: 3 }))
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done')
  const sheet = page.getByRole('region', { name: 'GRPO worksheet' })
  await expect(sheet.locator('.katex').first()).toBeVisible()
  for (const name of ['Export run', 'Export metrics CSV', 'Export model', 'Export ONNX', 'Export for Hugging Face']) {
    const download = page.waitForEvent('download')
    await page.getByRole('button', { name }).click()
    expect((await (await download).path()).length).toBeGreaterThan(0)
  }
  expect(await violations(page)).toEqual([])
  expect(console).toEqual([])
})

test('script injected into the page does not run: inline script, inline handler, eval', async ({ page }) => {
  await watchPolicy(page)
  await openLab(page, echoLink())
  await page.evaluate(() => {
    const s = document.createElement('script')
    s.textContent = 'window.__inline = 1'
    document.head.appendChild(s)
    document.body.insertAdjacentHTML('beforeend', '<img src="data:," onload="window.__handler = 1" onerror="window.__handler = 1">')
  })
  await expect.poll(() => violations(page)).toEqual(expect.arrayContaining(['script-src-elem blocked inline', 'script-src-attr blocked inline']))
  expect(await page.evaluate(() => [(window as unknown as Watched).__inline, (window as unknown as Watched).__handler])).toEqual([undefined, undefined])
  // eval from the page's own event loop (DevTools lifts the eval block while page.evaluate itself runs)
  await page.evaluate(() => setTimeout(() => {
    const w = window as unknown as Watched & { __eval?: string }
    try { w.__eval = String(eval('1 + 1')) } catch (e) { w.__eval = (e as Error).name }
  }))
  await expect.poll(() => page.evaluate(() => (window as unknown as { __eval?: string }).__eval)).toBe('EvalError')
})

test('hostile text in an imported run file is shown as text, and a hostile config is refused', async ({ page }) => {
  await watchPolicy(page)
  await openLab(page, echoLink())
  const trace: TraceRecord = {
    step: 1,
    groups: [{ prompt: `${IMG} 1+1=`, answer: SCRIPT, completions: [0, 1].map((i) => ({
      text: `${SCRIPT}<think>${IMG}</think><answer>${i}</answer>`, rewards: { [IMG]: i, format: 1 }, reward: i, advantage: i - 0.5,
      length: 40, truncated: false, correct: i === 1,
    })) }],
  }
  const file = makeRunFile(IMG, resolveRunConfig(ECHO_VALUES), [{ step: 1, reward: 0.5 }], [trace], [])
  await page.getByLabel('Import run file').setInputFiles({ name: 'hostile.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(file)) })
  const traces = page.getByRole('region', { name: 'Traces' })
  await expect(traces).toContainText(`${IMG} 1+1=`)
  await expect(traces).toContainText(SCRIPT)
  await expect(page.locator('img[src="x"]')).toHaveCount(0)
  expect(await page.locator('script').evaluateAll((ss) => ss.filter((s) => s.textContent?.includes('__pwned')).length)).toBe(0)

  const hostileConfig = { ...file, config: { ...file.config, task: IMG, base_model: SCRIPT } }
  await page.getByLabel('Import run file').setInputFiles({ name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(hostileConfig)) })
  await expect(page.getByRole('alert')).toContainText(`config: task: got ${JSON.stringify(IMG)}`)
  await expect(page.locator('img[src="x"]')).toHaveCount(0)
  expect(await pwned(page)).toBeUndefined()
  expect(await violations(page)).toEqual([])
})

test('a link with markup in its values is refused key by key, shown as text', async ({ page }) => {
  await watchPolicy(page)
  await page.goto(`/#v=1&task=${encodeURIComponent(SCRIPT)}&base_model=${encodeURIComponent(IMG)}&beta=0.04`)
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled()
  const alert = page.getByRole('alert', { name: 'Link problems' })
  await expect(alert).toContainText('task')
  await expect(alert).toContainText('base_model')
  await expect(alert).toContainText('<script>')
  await expect(page.getByLabel('beta', { exact: true })).toHaveValue('0.04')
  await expect(page.locator('img[src="x"]')).toHaveCount(0)
  expect(await pwned(page)).toBeUndefined()
  expect(await violations(page)).toEqual([])
})
