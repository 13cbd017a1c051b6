// transformers.js in Chromium runs the exported Hugging Face folders of the shipped addition and
// countdown models: pipeline('text-generation') with greedy decoding gives exactly the lab's
// greedy completions (text, and model.generate's token ids) for several prompts. A small page
// (e2e/pages/transformersjs.html, not the lab's bundle) served by a static server of this test:
// the library from node_modules, ONNX Runtime's WASM files from the onnxruntime-web that
// transformers.js depends on, the folders from a temporary directory; any other request fails the test.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, normalize } from 'node:path'
import { expect, test } from '@playwright/test'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { hfFolderFiles } from '../src/export/hf'
import { loadInto, loadSafetensors } from '../src/model/checkpoint'
import { GPT } from '../src/model/gpt'
import { generateText } from '../src/model/inference'
import { getTask } from '../src/tasks/registry'

const models = mkdtempSync(join(tmpdir(), 'grpo-lab-tjs-web-'))
const ROOTS: Record<string, string> = {
  '/transformers/': 'node_modules/@huggingface/transformers/dist/',
  '/ort/': 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/',
  '/models/': models + '/',
  '/': 'e2e/pages/',
}
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' }
let server: Server
let origin = ''

test.beforeAll(async () => {
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const prefix = Object.keys(ROOTS).find((p) => path.startsWith(p))!
    const file = normalize(ROOTS[prefix] + path.slice(prefix.length))
    try {
      if (!statSync(file).isFile()) throw new Error('not a file')
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      res.end(readFileSync(file))
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
test.afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

for (const name of ['addition', 'countdown']) {
  test(`${name}: greedy pipeline in Chromium gives the lab's greedy completions`, async ({ page }) => {
    const ck = loadSafetensors(new Uint8Array(readFileSync(`public/models/${name}.safetensors`)))
    for (const [path, bytes] of hfFolderFiles(ck)) {
      mkdirSync(join(models, name, path, '..'), { recursive: true })
      writeFileSync(join(models, name, path), bytes)
    }
    const task = getTask(name)
    const prompts = [0, 1, 2].map((i) => task.problem('test', 5, i).prompt).concat([task.problem('test', 5, 3).prompt.slice(0, 4)])
    const be = new CpuBackend('f32')
    const model = new GPT(be, ck.config)
    loadInto(model, ck)
    const lab = await generateText(model, ck.tokenizer, prompts, { temperature: 0, seed: 0, n: 1 })
    model.destroy()
    be.destroy()

    const foreign: string[] = []
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith(origin + '/')) return route.continue()
      foreign.push(route.request().url())
      return route.abort()
    })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`${origin}/transformersjs.html`)
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    const got = await page.evaluate(([n, p]) => (window as unknown as { greedy: (n: string, p: string[]) => Promise<{ text: string; ids: number[] }[]> }).greedy(n, p), [name, prompts] as const)
    expect(errors).toEqual([])
    expect(foreign).toEqual([])
    prompts.forEach((prompt, i) => {
      expect(got[i].text, `pipeline on ${JSON.stringify(prompt)}`).toBe(prompt + lab[i].text)
      expect(got[i].ids, `model.generate on ${JSON.stringify(prompt)}`).toEqual([...ck.tokenizer.encode(prompt), ...lab[i].token_ids])
    })
  })
}
