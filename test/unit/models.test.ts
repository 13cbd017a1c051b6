// Every shipped base model in public/models/ loads and matches its manifest: the file's
// sha256, its config and tokenizer, and its held-out pass@1 recomputed on the CPU backend
// (where the shipped models are pretrained, so the figure is reproduced exactly).
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { loadInto, loadSafetensors } from '../../src/model/checkpoint'
import { GPT } from '../../src/model/gpt'
import { SHIPPED_MODELS } from '../../src/model/shipped'
import { evaluateModel } from '../../src/rl/evaluate'
import { getTask } from '../../src/tasks/registry'

const DIR = join(__dirname, '../../public/models')
const manifests = readdirSync(DIR).filter((f) => f.endsWith('.json'))

describe('shipped base models', () => {
  it('there is one per task preset: addition (the default demo) and countdown', () => {
    expect(manifests).toContain('addition.json')
    expect(manifests).toContain('countdown.json')
  })

  it('the table a config is checked against (src/model/shipped.ts) holds every manifest, as on disk', () => {
    const onDisk = Object.fromEntries(manifests.map((f) => {
      const m = JSON.parse(readFileSync(join(DIR, f), 'utf8'))
      return [m.file.replace(/\.safetensors$/, ''), { task: m.task, blockSize: m.config.blockSize, chars: m.tokenizer.chars }]
    }))
    expect(SHIPPED_MODELS).toEqual(onDisk)
  })

  for (const file of manifests) {
    it(`${file}: loads and matches its manifest`, async () => {
      const m = JSON.parse(readFileSync(join(DIR, file), 'utf8'))
      const bytes = readFileSync(join(DIR, m.file))
      expect(bytes.length).toBe(m.bytes)
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(m.sha256)
      expect(bytes.length).toBeLessThan(4 * 1024 * 1024)
      const ck = loadSafetensors(new Uint8Array(bytes))
      expect(ck.config).toEqual(m.config)
      expect(ck.tokenizer.toJSON()).toEqual(m.tokenizer)
      expect(m.backend).toMatch(/^CPU backend/)
      const task = getTask(m.task)
      const model = new GPT(new CpuBackend('f32'), ck.config)
      loadInto(model, ck)
      const e = await evaluateModel(model, ck.tokenizer, task, {
        n: m.held_out.problems, k: 0, temperature: 1, maxNewTokens: task.maxCompletionLength, seed: m.pretrain.seed,
      })
      expect(e['eval/pass@1']).toBe(m.held_out['eval/pass@1'])
    })
  }
})
