// Hugging Face model folders in the lab: a folder (chosen, or as a .zip) becomes the base model
// and trains; "Export for Hugging Face" downloads a .zip of a folder that reads back as the run's
// model; a folder the lab cannot take is refused with what was found and what it supports; a link's
// base_model may be a folder's URL (ending in '/').
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from '@playwright/test'
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate'
import { hfFolderFiles, hfFolderZip } from '../src/export/hf'
import { encodeLink } from '../src/lab/link'
import { loadSafetensors } from '../src/model/checkpoint'
import { checkpointFromHfFiles, filesFromZip } from '../src/model/hfFolder'
import { resolveRunConfig } from '../src/rl/config'
import { openLab, shownStep } from './helpers'
import { startStaticServer } from './staticServer'

const shipped = loadSafetensors(new Uint8Array(readFileSync('public/models/addition.safetensors')))
// one short GRPO step of the addition model
const link = encodeLink(resolveRunConfig({
  task: 'addition', base_model: 'addition', num_generations: 2, prompts_per_step: 1, max_completion_length: 24, max_steps: 1, eval_every: 0,
}), [], false)
const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-hf-e2e-'))

test('a Hugging Face folder is the base model, trains, and the run exports as a folder again', async ({ page }) => {
  const folder = join(dir, 'my-gpt2')
  for (const [path, bytes] of hfFolderFiles(shipped)) {
    mkdirSync(join(folder, path, '..'), { recursive: true })
    writeFileSync(join(folder, path), bytes)
  }
  await openLab(page, link)
  await page.getByLabel('Base model folder').setInputFiles(folder)
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('my-gpt2')
  await expect(page.getByRole('region', { name: 'Base model' }).getByRole('status')).toContainText("'my-gpt2' loaded from my-gpt2")
  await expect(page.getByLabel('Starts from')).toHaveText('my-gpt2 (loaded from a file, kept in this browser)')
  await page.getByRole('button', { name: 'Start', exact: true }).click()
  await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: 90_000 })
  await expect(page.getByRole('alert')).toHaveCount(0)
  expect(await shownStep(page)).toBe(1)
  const download = page.waitForEvent('download')
  await page.getByRole('button', { name: 'Export for Hugging Face' }).click()
  expect((await download).suggestedFilename()).toBe('grpo-lab-addition-step1-hf.zip')
  const zip = new Uint8Array(readFileSync(await (await download).path()))
  const entries = Object.keys(unzipSync(zip)).sort()
  expect(entries).toContain('grpo-lab-addition-step1/onnx/model.onnx')
  expect(entries).toContain('grpo-lab-addition-step1/README.md')
  const back = checkpointFromHfFiles(filesFromZip(zip))
  expect(back.config).toEqual(shipped.config)
  expect(back.tokenizer.chars).toBe(shipped.tokenizer.chars)
  expect(back.metadata).toMatchObject({ task: 'addition', step: '1' })
  // the run started from the folder's weights (fresh ones differ by ~0.1–1); one step at lr 2e-4 moves them little
  for (const [name, t] of shipped.tensors) {
    const trained = back.tensors.get(name)!
    expect(Math.max(...Array.from(t, (x, i) => Math.abs(x - trained[i]))), name).toBeLessThan(0.01)
  }
  const card = strFromU8(unzipSync(zip)['grpo-lab-addition-step1/README.md']) // the lab itself unpacks only what it reads
  expect(card).toContain('"base_model": "my-gpt2"')
})

test('a .zip dropped on the Base model panel loads', async ({ page }) => {
  await openLab(page, link)
  const zip = Buffer.from(hfFolderZip(shipped, 'dropped')).toString('base64')
  await page.getByRole('region', { name: 'Base model' }).evaluate((panel, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))
    const dataTransfer = new DataTransfer()
    dataTransfer.items.add(new File([bytes], 'dropped.zip', { type: 'application/zip' }))
    panel.dispatchEvent(new DragEvent('drop', { dataTransfer, bubbles: true, cancelable: true }))
  }, zip)
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('dropped')
  await expect(page.getByRole('alert')).toHaveCount(0)
})

test('a .zip of a folder loads; a byte-level tokenizer is refused, saying what the lab supports', async ({ page }) => {
  await openLab(page, link)
  const good = join(dir, 'zipped.zip')
  writeFileSync(good, hfFolderZip(shipped, 'zipped'))
  await page.getByLabel('Base model file').setInputFiles(good)
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('zipped')
  const files = hfFolderFiles(shipped)
  const tokenizer = JSON.parse(strFromU8(files.get('tokenizer.json')!))
  tokenizer.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }
  files.set('tokenizer.json', strToU8(JSON.stringify(tokenizer)))
  const bad = join(dir, 'bytelevel.zip')
  writeFileSync(bad, zipSync(Object.fromEntries([...files].map(([p, b]) => [`bytelevel/${p}`, b]))))
  await page.getByLabel('Base model file').setInputFiles(bad)
  await expect(page.getByRole('alert')).toContainText('bytelevel.zip is not a model this lab can load')
  await expect(page.getByRole('alert')).toContainText('pre_tokenizer "ByteLevel" (a byte-level tokenizer); the lab supports a GPT-2 folder')
  await expect(page.getByLabel('base_model', { exact: true })).toHaveValue('zipped')
})

test("a link's base_model may be a Hugging Face folder's URL: its three files are fetched, after consent", async ({ page }) => {
  const folder = join(dir, 'served', 'addition-hf')
  for (const [path, bytes] of hfFolderFiles(shipped)) {
    mkdirSync(join(folder, path, '..'), { recursive: true })
    writeFileSync(join(folder, path), bytes)
  }
  const server = await startStaticServer({ '/hf/': join(dir, 'served') + '/' })
  try {
    await openLab(page, encodeLink(resolveRunConfig({
      task: 'addition', base_model: `${server.origin}/hf/addition-hf/`, num_generations: 2, prompts_per_step: 1, max_completion_length: 24, max_steps: 1, eval_every: 0,
    }), [], false))
    await page.getByRole('button', { name: 'Start', exact: true }).click()
    await page.getByRole('button', { name: `Allow loading from ${server.host}` }).click()
    await expect(page.getByLabel('Run state')).toHaveText('done', { timeout: 90_000 })
    await expect(page.getByRole('alert')).toHaveCount(0)
    expect(server.requests).toEqual(['/hf/addition-hf/config.json', '/hf/addition-hf/tokenizer.json', '/hf/addition-hf/model.safetensors'])
  } finally {
    await server.close()
  }
})
