// Hugging Face model folders (src/export/hf.ts, src/model/hfFolder.ts): the shipped addition model
// exported and read back is the same checkpoint, bit for bit (from a folder, a .zip, and through
// the CLI); the files hold GPT-2's names, Conv1D's [in, out] weights, an untied head and a
// character tokenizer; folders the lab cannot take are refused saying what was found; and
// `generate`, `logits` and `eval --completions-out` give the same answers from the folder as from
// the checkpoint. (test/unit/transformersjs.test.ts runs the folder in transformers.js.)
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { strFromU8, strToU8, zipSync } from 'fflate'
import { beforeAll, describe, expect, it } from 'vitest'
import { hfFolderFiles, hfFolderZip } from '../../src/export/hf'
import { type Checkpoint, encodeSafetensors, loadSafetensors, readSafetensors } from '../../src/model/checkpoint'
import { checkpointFromHfFiles, filesFromZip, MAX_UNZIPPED_BYTES } from '../../src/model/hfFolder'
import { EOS_ID } from '../../src/model/tokenizer'
import { rewardWeights, scoreCompletion } from '../../src/rl/rewards'
import { getTask } from '../../src/tasks/registry'
import { cliJson, runCli } from './cliOutput'

const SHIPPED = 'public/models/addition.safetensors'
let ck: Checkpoint
let files: Map<string, Uint8Array>
const json = (name: string) => JSON.parse(strFromU8(files.get(name)!)) as Record<string, unknown>

beforeAll(() => {
  ck = loadSafetensors(new Uint8Array(readFileSync(SHIPPED)))
  files = hfFolderFiles(ck)
})

function expectSameCheckpoint(a: Checkpoint, b: Checkpoint): void {
  expect(a.config).toEqual(b.config)
  expect(a.tokenizer.chars).toBe(b.tokenizer.chars)
  expect([...a.tensors.keys()].sort()).toEqual([...b.tensors.keys()].sort())
  for (const [name, t] of a.tensors) expect(Buffer.from(b.tensors.get(name)!.buffer).equals(Buffer.from(t.buffer)), name).toBe(true)
}

/** The folder's files with one JSON file changed. */
function withJson(name: string, change: (j: Record<string, unknown>) => void): Map<string, Uint8Array> {
  const j = json(name)
  change(j)
  return new Map([...files, [name, strToU8(JSON.stringify(j))]])
}

describe('Hugging Face folder export', () => {
  it('reads back as the same checkpoint, from the files and from the .zip', () => {
    const back = checkpointFromHfFiles(files)
    expectSameCheckpoint(ck, back)
    expect(back.metadata.task).toBe('addition')
    expectSameCheckpoint(ck, checkpointFromHfFiles(filesFromZip(hfFolderZip(ck, 'addition-hf'))))
  })

  it('a .zip that would unpack past the cap is refused before it is unpacked; files the lab does not read are left packed', () => {
    const huge = new Uint8Array(MAX_UNZIPPED_BYTES + 1) // zeros: 64 MiB that pack into ~64 kB
    const bomb = zipSync({ 'm/config.json': strToU8('{}'), 'm/model.safetensors': huge }, { level: 1 })
    expect(bomb.length).toBeLessThan(1e6)
    expect(() => filesFromZip(bomb)).toThrow(/model\.safetensors in the \.zip unpacks to more than 64 MiB/)
    const files = filesFromZip(zipSync({ 'm/config.json': strToU8('{}'), 'm/padding.bin': huge }, { level: 1 }))
    expect([...files.keys()]).toEqual(['config.json'])
  })

  it("holds GPT-2's tensor names, Conv1D weights as [in, out], an untied head, and {format: pt}", () => {
    const { metadata, tensors } = readSafetensors(files.get('model.safetensors')!)
    expect(metadata).toEqual({ format: 'pt' })
    const C = ck.config.nEmbd
    const names = [...tensors.keys()]
    expect(names).toContain('transformer.wte.weight')
    expect(names).toContain('transformer.wpe.weight')
    expect(names).toContain('transformer.ln_f.bias')
    expect(names.filter((n) => n.startsWith('transformer.h.1.')).sort()).toEqual(
      ['attn.c_attn.bias', 'attn.c_attn.weight', 'attn.c_proj.bias', 'attn.c_proj.weight', 'ln_1.bias', 'ln_1.weight',
        'ln_2.bias', 'ln_2.weight', 'mlp.c_fc.bias', 'mlp.c_fc.weight', 'mlp.c_proj.bias', 'mlp.c_proj.weight'].map((n) => `transformer.h.1.${n}`))
    const cAttn = tensors.get('transformer.h.0.attn.c_attn.weight')!
    expect(cAttn.shape).toEqual([C, 3 * C])
    const lab = ck.tensors.get('h.0.attn.c_attn.weight')! // [3C, C]
    for (const [i, j] of [[0, 1], [5, 2 * C + 3], [C - 1, 3 * C - 1]]) expect(cAttn.data[i * 3 * C + j]).toBe(lab[j * C + i])
    expect(tensors.get('transformer.h.0.mlp.c_fc.weight')!.shape).toEqual([C, 4 * C])
    expect(tensors.get('transformer.h.0.mlp.c_proj.weight')!.shape).toEqual([4 * C, C])
    // the head is its own matrix, not wte's
    expect(Array.from(tensors.get('lm_head.weight')!.data)).toEqual(Array.from(ck.tensors.get('lm_head.weight')!))
    expect(Array.from(tensors.get('lm_head.weight')!.data)).not.toEqual(Array.from(tensors.get('transformer.wte.weight')!.data))
  })

  it('config.json, generation_config.json and the tokenizer files say gpt2, gelu_new, untied, character tokens', () => {
    const config = json('config.json')
    expect(config).toMatchObject({
      model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], tie_word_embeddings: false, n_positions: ck.config.blockSize,
      n_ctx: ck.config.blockSize, n_embd: ck.config.nEmbd, n_layer: ck.config.nLayer, n_head: ck.config.nHead,
      vocab_size: ck.config.vocabSize, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5,
      resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0, bos_token_id: EOS_ID, eos_token_id: EOS_ID, 'transformers.js_config': { dtype: 'fp32' },
    })
    expect(json('generation_config.json')).toMatchObject({ eos_token_id: EOS_ID, max_length: ck.config.blockSize })
    const tok = json('tokenizer.json') as { model: { type: string; vocab: Record<string, number>; merges: unknown[] }; [k: string]: unknown }
    expect(tok.model.type).toBe('BPE')
    expect(tok.model.merges).toEqual([])
    expect(tok.pre_tokenizer).toBeNull()
    expect(tok.normalizer).toBeNull()
    expect(tok.decoder).toEqual({ type: 'Fuse' })
    expect(Object.keys(tok.model.vocab)).toHaveLength(ck.config.vocabSize)
    for (const ch of ck.tokenizer.chars) expect(tok.model.vocab[ch]).toBe(ck.tokenizer.encode(ch)[0])
    expect(json('tokenizer_config.json')).toMatchObject({
      tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, model_max_length: ck.config.blockSize, eos_token: '<|end|>',
    })
    const card = strFromU8(files.get('README.md')!)
    expect(card).toMatch(/Task: addition/)
    expect(card).toMatch(/AutoModelForCausalLM/)
    expect(card).toMatch(/pipeline\('text-generation'/)
  })

  it('refuses what it cannot take, saying what it found and what the lab supports', () => {
    const refusals: [Map<string, Uint8Array>, RegExp][] = [
      [withJson('config.json', (j) => { j.model_type = 'llama'; j.architectures = ['LlamaForCausalLM'] }), /model_type "llama"/],
      [withJson('config.json', (j) => { j.tie_word_embeddings = true }), /tie_word_embeddings true \(a head tied to wte\)/],
      [withJson('config.json', (j) => { delete j.tie_word_embeddings }), /tie_word_embeddings true/],
      [withJson('config.json', (j) => { j.activation_function = 'gelu' }), /activation_function "gelu"/],
      [withJson('tokenizer.json', (j) => { j.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false } }), /pre_tokenizer "ByteLevel" \(a byte-level tokenizer\)/],
      [withJson('tokenizer.json', (j) => { (j.model as { merges: string[] }).merges = ['1 2'] }), /has 1 merges/],
      [withJson('tokenizer.json', (j) => { (j.model as { type: string }).type = 'WordPiece' }), /"WordPiece" model/],
      [new Map([...files].filter(([n]) => n !== 'tokenizer.json')), /tokenizer.json is missing/],
    ]
    // a tied head: no lm_head.weight in the weights
    const { tensors } = readSafetensors(files.get('model.safetensors')!)
    const tied = encodeSafetensors([...tensors.values()].filter((t) => t.name !== 'lm_head.weight'), { format: 'pt' })
    refusals.push([new Map([...files, ['model.safetensors', tied]]), /no lm_head.weight \(a head tied to wte\)/])
    for (const [bad, found] of refusals) {
      expect(() => checkpointFromHfFiles(bad)).toThrow(found)
      expect(() => checkpointFromHfFiles(bad)).toThrow(/the lab supports a GPT-2 folder/)
    }
  })
})

describe('the CLI with Hugging Face folders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-hf-'))
  const folder = join(dir, 'addition-hf')
  const prompts = [0, 1, 2].map((i) => getTask('addition').problem('test', 1, i).prompt)

  beforeAll(async () => {
    await cliJson(['export', '--format', 'hf', '--model', SHIPPED, '--out', folder])
  })

  it('export --format hf writes the folder, and it loads back as the checkpoint', async () => {
    expect(readdirSync(folder).sort()).toEqual(['README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'onnx', 'tokenizer.json', 'tokenizer_config.json'])
    expect(readFileSync(join(folder, 'README.md'), 'utf8')).toMatch(/Held-out pass@1: 0\.\d{3} \(greedy, 128 held-out problems\)/)
    // a folder exported from a folder is the same folder
    const again = join(dir, 'again')
    await cliJson(['export', '--format', 'hf', '--model', folder, '--out', again])
    expect(readFileSync(join(again, 'model.safetensors')).equals(readFileSync(join(folder, 'model.safetensors')))).toBe(true)
    expect((await runCli(['export', '--format', 'hf', '--model', SHIPPED])).status).toBe(2)
  })

  it('generate: the same greedy completions from the folder, the .zip and the checkpoint, as JSON', async () => {
    const zip = join(dir, 'addition-hf.zip')
    writeFileSync(zip, zipSync(Object.fromEntries(['config.json', 'tokenizer.json', 'model.safetensors'].map((n) => [`addition-hf/${n}`, readFileSync(join(folder, n))]))))
    const args = prompts.flatMap((p) => ['--prompt', p]).concat(['--greedy'])
    type Out = { model: string; completions: { prompt: string; text: string; token_ids: number[]; stopped: string }[] }
    const gen = (m: string) => cliJson<Out>(['generate', '--model', m, ...args])
    // one at a time: runCli captures this process's stdout
    const [fromFile, fromFolder, fromZip] = [await gen(SHIPPED), await gen(folder), await gen(zip)]
    expect(fromFolder.completions).toEqual(fromFile.completions)
    expect(fromZip.completions).toEqual(fromFile.completions)
    expect(fromFile.completions.map((c) => c.prompt)).toEqual(prompts)
    for (const c of fromFile.completions) {
      expect(c.stopped).toBe('eos')
      expect(c.token_ids[c.token_ids.length - 1]).toBe(EOS_ID)
      expect(ck.tokenizer.decode(c.token_ids)).toBe(c.text)
      expect(c.text).toMatch(/<answer>\d+<\/answer>$/)
    }
    // sampled: reproducible with its seed, different with another; --n draws per prompt; --max-new-tokens caps
    const sample = (seed: number) => cliJson<Out>(['generate', '--model', folder, '--prompt', prompts[0], '--temperature', '1.5', '--seed', String(seed), '--n', '4', '--max-new-tokens', '12'])
    const [a, b, c] = [await sample(3), await sample(3), await sample(4)]
    expect(a.completions).toHaveLength(4)
    expect(a).toEqual(b)
    expect(a.completions.map((x) => x.text)).not.toEqual(c.completions.map((x) => x.text))
    for (const x of a.completions) expect(x.token_ids.length).toBeLessThanOrEqual(12)
    const bad = await runCli(['generate', '--model', folder, '--prompt', 'ABC', '--greedy'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/--prompt: tokenizer: character "A" is not in the alphabet/)
  })

  it('logits: every position, the same from the folder as from the checkpoint', async () => {
    type Out = { results: { text: string; token_ids: number[]; logits: number[][] }[] }
    const logits = (m: string) => cliJson<Out>(['logits', '--model', m, '--text', prompts[0], '--text', '1+1='])
    const [f, h] = [await logits(SHIPPED), await logits(folder)]
    expect(h.results).toEqual(f.results)
    expect(f.results[0].token_ids).toEqual(ck.tokenizer.encode(prompts[0]))
    expect(f.results[0].logits).toHaveLength(prompts[0].length)
    expect(f.results[1].logits[0]).toHaveLength(ck.config.vocabSize)
    // the last position's most likely token is greedy decoding's first
    const first = (await cliJson<{ completions: { token_ids: number[] }[] }>(['generate', '--model', SHIPPED, '--prompt', prompts[0], '--greedy', '--max-new-tokens', '1'])).completions[0].token_ids[0]
    const last = f.results[0].logits.at(-1)!
    expect(last.indexOf(Math.max(...last))).toBe(first)
  })

  it('eval --completions-out: each problem\'s prompt, greedy completion and reward; pass@1 agrees', async () => {
    const out = join(dir, 'completions.jsonl')
    const m = await cliJson(['eval', '--task', 'addition', '--model', folder, '--backend', 'cpu', '--n', '16', '--k', '0', '--completions-out', out])
    const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; completion: string; token_ids: number[]; reward: number; correct: boolean })
    expect(rows).toHaveLength(16)
    const task = getTask('addition')
    rows.forEach((r, i) => {
      const problem = task.problem('test', 1, i)
      expect(r.prompt).toBe(problem.prompt)
      expect(r.reward).toBe(scoreCompletion(task, rewardWeights(task, []), problem, r.completion, r.token_ids.length).total)
    })
    expect(rows.filter((r) => r.correct).length / 16).toBe(m['eval/pass@1'])
    expect(new Set(rows.map((r) => r.reward)).size).toBeGreaterThan(1) // right and wrong answers among them
  })

  it('train takes the folder as base_model', async () => {
    const config = join(dir, 'run.json')
    writeFileSync(config, JSON.stringify({ task: 'addition', base_model: folder, max_steps: 2, num_generations: 4, prompts_per_step: 2, eval_every: 0 }))
    const r = await runCli(['train', '--config', config, '--backend', 'cpu', '--out', join(dir, 'run'), '--stop-after', '1'])
    expect(r.stderr).toMatch(/step 1\/2/)
    expect(r.status).toBe(0)
    const trained = loadSafetensors(new Uint8Array(readFileSync(join(dir, 'run', 'model.safetensors'))))
    expect(trained.config).toEqual(ck.config)
  })
})
