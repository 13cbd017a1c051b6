// The TRL project (src/export/trl.ts, trlProject.ts, trlTrain.ts): every lab key is carried by a
// TRL field or said to have none; the batch arithmetic in TRL's units (steps_per_generation counts
// microbatches, max_steps optimizer steps); train.py writes every mapped field; the data are the
// lab's problems for the seed, in order; the model is the base (or fresh weights as the trainer makes
// them); bad runs are refused naming the key; the README's table is the generated one. The Python
// side (rewards.py against the lab's scores, train.py in TRL) is python/tests/test_trl_project.py.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { strFromU8, unzipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import { LAB_ONLY, labKeysInTrl, TRL_FIELDS, trlBatch, trlNotes, trlRewardWeights, withGrpoConfigTable } from '../../src/export/trl'
import { TRL_REQUIREMENTS, TrlExportError, trlProjectFiles, trlProjectZip } from '../../src/export/trlProject'
import { PYTHON_REWARDS } from '../../src/export/trlRewards'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { type Checkpoint, checkpointOf, loadSafetensors } from '../../src/model/checkpoint'
import { GPT } from '../../src/model/gpt'
import { checkpointFromHfFiles } from '../../src/model/hfFolder'
import { CharTokenizer } from '../../src/model/tokenizer'
import { DEFAULT_RUN_CONFIG, RUN_CONFIG_SPEC, resolveRunConfig, type RunConfig } from '../../src/rl/config'
import { getTask, TASK_IDS } from '../../src/tasks/registry'
import { runCli } from './cliOutput'

const addition = (): Checkpoint => loadSafetensors(new Uint8Array(readFileSync('public/models/addition.safetensors')))
const text = (files: Map<string, Uint8Array>, path: string) => strFromU8(files.get(path)!)
const rows = (files: Map<string, Uint8Array>, path: string) => text(files, path).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)

describe('the mapping', () => {
  it('carries every lab key in a TRL field or says what it becomes', () => {
    for (const { key, fields, note } of labKeysInTrl()) expect(fields.length > 0 || note !== undefined, key).toBe(true)
    for (const key of Object.keys(LAB_ONLY)) expect(Object.hasOwn(RUN_CONFIG_SPEC, key), key).toBe(true)
    for (const f of TRL_FIELDS) for (const k of f.keys) expect(Object.hasOwn(RUN_CONFIG_SPEC, k), `${f.field} ← ${k}`).toBe(true)
  })

  it('names each field once', () => {
    const names = TRL_FIELDS.map((f) => f.field)
    expect(new Set(names).size).toBe(names.length)
  })

  it("counts TRL's steps_per_generation in microbatches and max_steps in optimizer steps", () => {
    const c = resolveRunConfig({ prompts_per_step: 4, num_generations: 6, steps_per_generation: 2, gradient_accumulation_steps: 3, num_iterations: 2, max_steps: 10, eval_every: 5 })
    expect(trlBatch(c)).toEqual({ rollout: 24, perDevice: 4, microbatches: 6, optimizerStepsPerRollout: 4, maxSteps: 40, evalSteps: 20 })
    const train = text(trlProjectFiles(c, addition(), 'addition').files, 'train.py')
    expect(train).toContain('PER_DEVICE_TRAIN_BATCH_SIZE = 4 ')
    expect(train).toContain('        steps_per_generation=6,\n')
    expect(train).toContain('        gradient_accumulation_steps=3,\n')
    expect(train).toContain('        eval_steps=20,\n')
    expect(train).toContain('LAB_MAX_STEPS = 10 ')
    expect(train).toContain('OPTIMIZER_STEPS_PER_ROLLOUT = 4 ')
    // one of TRL's two: generation_batch_size is derived, never written
    expect(train).not.toMatch(/^\s+generation_batch_size=/m)
  })

  it('writes every mapped field of GRPOConfig out in train.py, with the run\'s values', () => {
    const c = resolveRunConfig({ beta: 0.04, epsilon: 0.2, epsilon_high: 0.28, delta: 1.5, loss_type: 'dr_grpo', scale_rewards: 'none', top_k: 12,
      temperature: 0.9, mask_truncated_completions: true, overlong_buffer_length: 16, overlong_penalty_factor: 0.5, learning_rate: 1e-3, seed: 7 })
    const train = text(trlProjectFiles(c, addition(), 'addition').files, 'train.py')
    for (const f of TRL_FIELDS.filter((x) => x.value)) expect(train, f.field).toMatch(new RegExp(`^        ${f.field}=`, 'm'))
    for (const line of ['beta=0.04', 'epsilon_high=0.28', 'delta=1.5', 'loss_type="dr_grpo"', 'scale_rewards="none"', 'top_k=12', 'temperature=0.9',
      'mask_truncated_completions=True', 'learning_rate=0.001', 'seed=7', 'reward_weights=[1.0, 0.1, 0.5]', 'use_bias_correction_kl=True', 'adam_epsilon=1e-8']) {
      expect(train).toContain(`        ${line},\n`)
    }
    expect(train).toContain('get_soft_overlong_punishment(max_completion_len=80, soft_punish_cache=16)')
    expect(trlRewardWeights(c)).toEqual([1, 0.1, 0.5])
  })

  it('writes delta 0 as None, the task\'s weights when the lab\'s are empty, and says so', () => {
    const c = DEFAULT_RUN_CONFIG
    const train = text(trlProjectFiles(c, addition(), 'addition').files, 'train.py')
    expect(train).toContain('        delta=None,\n')
    expect(train).toContain('        reward_weights=[1.0, 0.1],\n')
    expect(train).not.toMatch(/^(from trl.rewards import|\s+get_soft_overlong_punishment\()/m)
    const notes = trlNotes(c)
    expect(notes).toContain("max_steps: the lab's 300 GRPO steps (rollouts) = TRL max_steps 300 optimizer steps (× num_iterations 1 × steps_per_generation 1)")
    expect(notes.some((n) => n.startsWith('dynamic_sampling = false: '))).toBe(true)
    expect(notes.some((n) => n.startsWith('cold_start_steps = 0: '))).toBe(true)
    // every note is in train.py's comments and the project's README
    const files = trlProjectFiles(c, addition(), 'addition').files
    for (const n of notes) expect(text(files, 'README.md')).toContain(`- ${n}`)
  })
})

describe('the project', () => {
  it("holds the lab's train problems in order and the held-out problems of its evaluation", () => {
    const c = resolveRunConfig({ seed: 5, max_steps: 3, prompts_per_step: 4, eval_problems: 20 })
    const { files } = trlProjectFiles(c, addition(), 'addition')
    const task = getTask('addition')
    const train = rows(files, 'data/train.jsonl')
    const held = rows(files, 'data/eval.jsonl')
    expect(train).toHaveLength(12)
    expect(held).toHaveLength(20)
    train.forEach((r, i) => { const p = task.problem('train', 5, i); expect(r).toEqual({ prompt: p.prompt, answer: p.answer, ...p.data }) })
    held.forEach((r, i) => expect(r.prompt).toBe(task.problem('test', 5, i).prompt))
    const seen = new Set(train.map((r) => r.prompt))
    expect(held.filter((r) => seen.has(r.prompt as string))).toEqual([])
  })

  it('puts the model in model/ as a Hugging Face folder and the run in lab_config.json', () => {
    const ck = addition()
    const { files } = trlProjectFiles(DEFAULT_RUN_CONFIG, ck, 'addition')
    const folder = new Map([...files].filter(([p]) => p.startsWith('model/')).map(([p, b]) => [p.slice('model/'.length), b]))
    const back = checkpointFromHfFiles(folder)
    expect(back.config).toEqual(ck.config)
    for (const [name, t] of ck.tensors) expect(Buffer.from(back.tensors.get(name)!.buffer).equals(Buffer.from(t.buffer)), name).toBe(true)
    expect(JSON.parse(text(files, 'lab_config.json'))).toEqual(DEFAULT_RUN_CONFIG)
    expect(text(files, 'requirements.txt').trim().split('\n')).toEqual([...TRL_REQUIREMENTS])
  })

  it('goes into one .zip under a folder', () => {
    const { bytes } = trlProjectZip(DEFAULT_RUN_CONFIG, addition(), 'grpo-lab-addition-trl', 'addition')
    const names = Object.keys(unzipSync(bytes))
    for (const p of ['train.py', 'rewards.py', 'README.md', 'data/train.jsonl', 'data/eval.jsonl', 'model/config.json', 'model/model.safetensors']) {
      expect(names).toContain(`grpo-lab-addition-trl/${p}`)
    }
  })

  it('refuses what TRL cannot run, naming the key and what is allowed', () => {
    const ck = addition()
    const cases: [Partial<RunConfig>, string, RegExp][] = [
      [{ temperature: 0 }, 'temperature', /allowed for TRL: a number above 0/],
      [{ task: 'countdown', base_model: 'countdown' }, 'model', /a model for task 'addition', but the run's task is 'countdown'/],
    ]
    for (const [partial, field, message] of cases) {
      let error: unknown
      try { trlProjectFiles(resolveRunConfig(partial), ck, 'addition') } catch (e) { error = e }
      expect(error).toBeInstanceOf(TrlExportError)
      expect((error as TrlExportError).field).toBe(field)
      expect((error as Error).message).toMatch(message)
    }
    // the shipped addition model's context is 96: a fresh-weights config that fits 128 does not fit it
    const long = resolveRunConfig({ base_model: '', max_completion_length: 100 })
    expect(() => trlProjectFiles(long, ck, 'addition')).toThrow(/max_completion_length: .* needs 116 positions: more than the model's n_positions \(its block_size\) = 96; allowed: at most 80/)
  })

  it('has the rewards of every task, named as its reward functions', () => {
    for (const id of TASK_IDS) expect(PYTHON_REWARDS[id]?.functions, id).toEqual(getTask(id).rewardFunctions.map((f) => f.name))
  })

  it('pins what python/requirements.txt pins', () => {
    const pins = new Set(readFileSync('python/requirements.txt', 'utf8').split('\n').map((l) => l.trim()))
    for (const p of TRL_REQUIREMENTS) expect(pins.has(p), p).toBe(true)
  })
})

describe('grpo-lab export --format trl', () => {
  it('starts a fresh-weights run from the weights the trainer would make for its seed', async () => {
    const out = mkdtempSync(join(tmpdir(), 'trl-echo-'))
    const link = '#v=1&task=echo&base_model=&n_layer=1&n_head=2&n_embd=32&block_size=16&max_completion_length=4&seed=3'
    const r = await runCli(['export', '--format', 'trl', '--link', link, '--out', out])
    expect(r.status, r.stderr).toBe(0)
    const reported = JSON.parse(r.stdout) as { model: string; notes: string[] }
    expect(reported.model).toBe('fresh weights of seed 3')
    expect(r.stderr).toContain('grpo-lab export: max_steps: ')
    const files = new Map(['config.json', 'tokenizer.json', 'model.safetensors'].map((n) => [n, new Uint8Array(readFileSync(join(out, 'model', n)))]))
    const back = checkpointFromHfFiles(files)
    const be = new CpuBackend('f32')
    const gpt = new GPT(be, back.config)
    gpt.initialize(3)
    const fresh = await checkpointOf(gpt, new CharTokenizer(getTask('echo').alphabet))
    gpt.destroy(); be.destroy()
    expect(back.config.blockSize).toBe(16)
    for (const [name, t] of fresh.tensors) expect(Buffer.from(back.tensors.get(name)!.buffer).equals(Buffer.from(t.buffer)), name).toBe(true)
  })

  it('refuses bad input with one line and exit status 2', async () => {
    const out = mkdtempSync(join(tmpdir(), 'trl-bad-'))
    const cases: [string[], RegExp][] = [
      [['export', '--format', 'trl'], /--out: required with --format trl/],
      [['export', '--format', 'trl', '--link', '#v=1&temperature=0', '--out', out], /temperature: got 0 \(greedy rollouts\)/],
      [['export', '--format', 'trl', '--model', 'public/models/addition.safetensors', '--link', '#v=1&task=countdown&base_model=countdown', '--out', out], /model: a model for task 'addition'/],
      [['export', '--format', 'hf', '--config', 'x.json', '--model', 'm', '--out', out], /--config: only with --format trl/],
      [['export', '--format', 'trl', '--kv-cache', '--out', out], /--kv-cache: only with --format onnx/],
    ]
    for (const [args, message] of cases) {
      const r = await runCli(args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(message)
    }
  })
})

describe('README.md', () => {
  it("has the GRPOConfig table scripts/trl-readme.ts writes", () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(withGrpoConfigTable(readme), 'README.md is stale: run node --import tsx scripts/trl-readme.ts').toBe(readme)
  })
})
