// transformers.js in Chromium runs the exported Hugging Face folders of the shipped addition and
// countdown models: pipeline('text-generation') with greedy decoding gives exactly the lab's
// greedy completions (text, and model.generate's token ids) for several prompts, and the prompts'
// logits to 1e-4. A small page
// (e2e/pages/transformersjs.html, not the lab's bundle) served by a static server of this test:
// the library from node_modules, ONNX Runtime's WASM files from the onnxruntime-web that
// transformers.js depends on, the folders from a temporary directory; any other request fails the test.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { hfFolderFiles } from '../src/export/hf'
import { loadInto, loadSafetensors } from '../src/model/checkpoint'
import { GPT } from '../src/model/gpt'
import { generateText, sequenceLogits } from '../src/model/inference'
import { getTask } from '../src/tasks/registry'
import { startStaticServer, type StaticServer } from './staticServer'

const models = mkdtempSync(join(tmpdir(), 'grpo-lab-tjs-web-'))
let server: StaticServer
let origin = ''

test.beforeAll(async () => {
  server = await startStaticServer({
    '/transformers/': 'node_modules/@huggingface/transformers/dist/',
    '/ort/': 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/',
    '/models/': models + '/',
    '/': 'e2e/pages/',
  })
  origin = server.origin
})
test.afterAll(() => server.close())

for (const name of ['addition', 'countdown']) {
  test(`${name}: greedy pipeline in Chromium gives the lab's greedy completions`, async ({ page }) => {
    const ck = loadSafetensors(new Uint8Array(readFileSync(`public/models/${name}.safetensors`)))
    for (const [path, bytes] of hfFolderFiles(ck)) {
      mkdirSync(join(models, name, path, '..'), { recursive: true })
      writeFileSync(join(models, name, path), bytes)
    }
    const task = getTask(name)
    // held-out prompts, part of one, and (countdown) one whose completion runs to the end of the context
    const prompts = [0, 1, 2].map((i) => task.problem('test', 5, i).prompt).concat([task.problem('test', 5, 3).prompt.slice(0, 4), name === 'countdown' ? '9*9=81 wait '.repeat(12) : '9'])
    const be = new CpuBackend('f32')
    const model = new GPT(be, ck.config)
    loadInto(model, ck)
    const lab = await generateText(model, ck.tokenizer, prompts, { temperature: 0, seed: 0, n: 1 })
    const labLogits: Float32Array[] = []
    for (const p of prompts) labLogits.push(await sequenceLogits(model, ck.tokenizer.encode(p)))
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
    const got = await page.evaluate(([n, p]) => (window as unknown as { greedy: (n: string, p: string[]) => Promise<{ text: string; ids: number[]; logits: number[] }[]> }).greedy(n, p), [name, prompts] as const)
    expect(errors).toEqual([])
    expect(foreign).toEqual([])
    prompts.forEach((prompt, i) => {
      expect(got[i].text, `pipeline on ${JSON.stringify(prompt)}`).toBe(prompt + lab[i].text)
      expect(got[i].ids, `model.generate on ${JSON.stringify(prompt)}`).toEqual([...ck.tokenizer.encode(prompt), ...lab[i].token_ids])
      expect(got[i].logits).toHaveLength(labLogits[i].length)
      const worst = Math.max(...got[i].logits.map((x, j) => Math.abs(x - labLogits[i][j])))
      expect(worst, `logits on ${JSON.stringify(prompt)}`).toBeLessThan(1e-4)
    })
  })
}
