// "Export to TRL" in the page: the .zip holds, byte for byte, the project `grpo-lab export --format trl`
// writes in Node for the same run (its base model fetched by the page); "Export to TRL (current model)"
// starts from the live run's weights instead, with the live run's configuration.
import { expect, test } from '@playwright/test'
import { strFromU8, unzipSync } from 'fflate'
import { readFileSync } from 'node:fs'
import { trlProjectFiles } from '../src/export/trlProject'
import { encodeLink } from '../src/lab/link'
import { loadSafetensors } from '../src/model/checkpoint'
import { checkpointFromHfFiles } from '../src/model/hfFolder'
import { resolveRunConfig } from '../src/rl/config'
import { download, openLab, startAndFinish } from './helpers'

const shipped = loadSafetensors(new Uint8Array(readFileSync('public/models/addition.safetensors')))
const config = resolveRunConfig({ task: 'addition', base_model: 'addition', num_generations: 4, prompts_per_step: 2, max_completion_length: 48, max_steps: 1, eval_every: 0, seed: 4 })
const link = encodeLink(config, [], false)
const folder = 'grpo-lab-addition-seed4-trl'

/** The project's files from a downloaded .zip, by path inside its folder. */
function unzipped(bytes: Buffer): Map<string, Uint8Array> {
  return new Map(Object.entries(unzipSync(new Uint8Array(bytes))).map(([p, b]) => [p.slice(folder.length + 1), b]))
}

test("Export to TRL downloads the project the command writes for the run's configuration and base model", async ({ page }) => {
  await openLab(page, link)
  const { name, bytes } = await download(page, 'Export to TRL')
  expect(name).toBe(`${folder}.zip`)
  await expect(page.getByRole('alert')).toContainText('Without a GRPOConfig field of their own: task, countdown_numbers, countdown_max_number, countdown_max_target, base_model')
  const got = unzipped(bytes)
  const want = trlProjectFiles(config, shipped, 'base model addition').files
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort())
  for (const [path, b] of want) expect(Buffer.from(got.get(path)!).equals(Buffer.from(b)), path).toBe(true)
})

test('Export to TRL (current model) starts from the live run\'s weights', async ({ page }) => {
  await openLab(page, link)
  await expect(page.getByRole('button', { name: 'Export to TRL (current model)' })).toBeDisabled()
  await startAndFinish(page, 1)
  const files = unzipped((await download(page, 'Export to TRL (current model)')).bytes)
  const model = new Map(['config.json', 'tokenizer.json', 'model.safetensors'].map((n) => [n, files.get(`model/${n}`)!]))
  const trained = checkpointFromHfFiles(model)
  expect(trained.metadata).toMatchObject({ task: 'addition', step: '1' })
  // one step at lr 2e-4 moves the weights, a little
  const moved = Math.max(...[...shipped.tensors].map(([n, t]) => Math.max(...Array.from(t, (x, i) => Math.abs(x - trained.tensors.get(n)![i])))))
  expect(moved).toBeGreaterThan(0)
  expect(moved).toBeLessThan(0.01)
  expect(JSON.parse(strFromU8(files.get('lab_config.json')!))).toEqual(config)
  expect(strFromU8(files.get('README.md')!)).toContain("the lab's run at step 1")
})
