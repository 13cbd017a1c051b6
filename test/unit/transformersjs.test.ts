// The exported Hugging Face folders run in transformers.js (Node, onnxruntime-node, no remote
// models): for the shipped addition and countdown models and several prompts, its tokenizer gives
// the lab's ids, pipeline('text-generation') with greedy decoding gives exactly the text of
// `grpo-lab generate --greedy`, model.generate exactly its tokens (end token included), and the
// prefill logits match `grpo-lab logits` to 1e-4.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AutoModelForCausalLM, AutoTokenizer, env, pipeline, Tensor, type TextGenerationPipeline } from '@huggingface/transformers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTask } from '../../src/tasks/registry'
import { cliJson } from './cliOutput'

const TOL = 1e-4
// (countdown's base stops within its 160 positions on short prompts: a long one leaves it 16 to fill)
const RUNS_ON: Record<string, string> = { addition: '9', countdown: '9*9=81 wait '.repeat(12) }
const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-tjs-'))

beforeAll(() => {
  env.allowRemoteModels = false
  env.allowLocalModels = true
  env.localModelPath = dir + '/'
})

type Generated = { completions: { prompt: string; text: string; token_ids: number[]; stopped: string }[] }
type Logits = { results: { token_ids: number[]; logits: number[][] }[] }

const measured: Record<string, number> = {}
afterAll(() => console.log('max |transformers.js − grpo-lab logits| (prefill):', JSON.stringify(measured)))

describe.each(['addition', 'countdown'])('transformers.js runs the exported %s folder', (name) => {
  const task = getTask(name)
  // held-out prompts, one that is only part of a problem, and one whose greedy completion runs to the
  // end of the context without an end token
  const prompts = [0, 1, 2, 3].map((i) => task.problem('test', 7, i).prompt).concat([task.problem('test', 7, 4).prompt.slice(0, 5), RUNS_ON[name]])
  // the lab's side runs the checkpoint itself, so that only transformers.js reads the folder
  const checkpoint = `public/models/${name}.safetensors`
  let generator: TextGenerationPipeline

  beforeAll(async () => {
    await cliJson(['export', '--format', 'hf', '--model', checkpoint, '--out', join(dir, name)])
    generator = await pipeline('text-generation', name, { dtype: 'fp32', device: 'cpu' }) as TextGenerationPipeline
  })
  afterAll(async () => { await generator?.dispose() })

  it('greedy pipeline text and model.generate tokens are those of grpo-lab generate --greedy', async () => {
    const lab = await cliJson<Generated>(['generate', '--model', checkpoint, '--greedy', ...prompts.flatMap((p) => ['--prompt', p])])
    expect(lab.completions.some((c) => c.stopped === 'eos')).toBe(true)
    if (name === 'countdown') expect(lab.completions.at(-1)!.stopped).toBe('length')
    for (const [i, prompt] of prompts.entries()) {
      const ours = lab.completions[i]
      const encoded = generator.tokenizer(prompt)
      const promptIds = Array.from(encoded.input_ids.data as BigInt64Array, Number)
      const [labPromptIds] = (await cliJson<Logits>(['logits', '--model', checkpoint, '--text', prompt])).results.map((r) => r.token_ids)
      expect(promptIds, `tokenizer on ${JSON.stringify(prompt)}`).toEqual(labPromptIds)
      // up to the end of the context, as the lab (the pipeline's default is 256 new tokens, past the learned positions)
      const room = (generator.model.config as unknown as { n_positions: number }).n_positions - promptIds.length
      const [out] = await generator(prompt, { do_sample: false, max_new_tokens: room }) as { generated_text: string }[]
      expect(out.generated_text, `pipeline on ${JSON.stringify(prompt)}`).toBe(prompt + ours.text)
      const tokens = await generator.model.generate({ ...encoded, do_sample: false }) as Tensor
      const ids = Array.from(tokens.data as BigInt64Array, Number)
      expect(ids, `model.generate on ${JSON.stringify(prompt)}`).toEqual([...promptIds, ...ours.token_ids])
    }
  })

  it('prefill logits match grpo-lab logits', async () => {
    const model = await AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32', device: 'cpu' })
    const tokenizer = await AutoTokenizer.from_pretrained(name)
    const lab = await cliJson<Logits>(['logits', '--model', checkpoint, ...prompts.flatMap((p) => ['--text', p])])
    let worst = 0
    for (const [i, prompt] of prompts.entries()) {
      const out = await model(tokenizer(prompt)) as { logits: Tensor }
      const V = out.logits.dims[2]
      const got = out.logits.data as Float32Array
      const want = lab.results[i].logits
      expect(out.logits.dims).toEqual([1, want.length, want[0].length])
      want.forEach((row, t) => row.forEach((x, v) => { worst = Math.max(worst, Math.abs(got[t * V + v] - x)) }))
    }
    measured[name] = worst
    expect(worst).toBeLessThan(TOL)
    await model.dispose()
  })
})
