// grpo-lab update: the trainer's update phase on a rollout from a file, on a tiny checkpoint
// (a .safetensors file and the same model as a Hugging Face folder), CPU backend.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { createFastCpuBackend } from '../../src/engine/cpu/fastCpuNode'
import { hfFolderFiles } from '../../src/export/hf'
import { checkpointOf, loadSafetensors, saveSafetensors } from '../../src/model/checkpoint'
import { GPT } from '../../src/model/gpt'
import { CharTokenizer } from '../../src/model/tokenizer'
import { resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer, type UpdateRollout } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'
import { echoRollout } from '../fixtures/echoRollout'
import { cliJson, runCli } from './cliOutput'

const CONFIG = { task: 'echo', base_model: '', seed: 4, n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, num_generations: 4,
  prompts_per_step: 2, max_completion_length: 4, learning_rate: 1e-2, lr_scheduler_type: 'constant', beta: 0.1,
  steps_per_generation: 2, temperature: 0.8 }

interface UpdateOutput {
  advantages: number[]
  optimizer_steps: { loss: number; grad_norm: number }[]
  metrics: Record<string, number | null>
}

const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-update-'))
const files = { model: join(dir, 'tiny.safetensors'), hf: join(dir, 'tiny-hf'), config: join(dir, 'config.json'), rollout: join(dir, 'rollout.json') }
const rollout = echoRollout(2, 4)
const asFile = (r: UpdateRollout) => ({
  prompt_ids: r.promptIds, completion_ids: r.completionIds, truncated: r.truncated, rewards: r.rewards, rewards_per_func: r.rewardsPerFunc,
})

beforeAll(async () => {
  const task = getTask('echo')
  const tokenizer = new CharTokenizer(task.alphabet)
  const model = new GPT(new CpuBackend('f32'), { vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 })
  model.initialize(11)
  const ck = await checkpointOf(model, tokenizer)
  writeFileSync(files.model, saveSafetensors(ck))
  for (const [path, bytes] of hfFolderFiles(ck)) {
    mkdirSync(join(files.hf, path, '..'), { recursive: true })
    writeFileSync(join(files.hf, path), bytes)
  }
  writeFileSync(files.config, JSON.stringify(CONFIG))
  writeFileSync(files.rollout, JSON.stringify(asFile(rollout)))
})

describe('grpo-lab update', () => {
  it('prints the advantages, each optimizer step\'s loss and grad_norm, and the metrics: the trainer\'s update on that rollout', async () => {
    const out = await cliJson<UpdateOutput>(['update', '--config', files.config, '--model', files.model, '--rollout', files.rollout])
    // the same update in this process, from the same checkpoint, on the command's default backend (the fast CPU one)
    const { readFileSync } = await import('node:fs')
    const ck = loadSafetensors(new Uint8Array(readFileSync(files.model)))
    const be = await createFastCpuBackend()
    const trainer = GRPOTrainer.create(be, resolveRunConfig(CONFIG), getTask('echo'), ck)
    const r = await trainer.update(rollout)
    trainer.destroy()
    be.destroy()
    expect(out.advantages).toEqual(r.advantages)
    expect(out.optimizer_steps).toEqual(r.optimizerSteps.map((o) => ({ loss: o.loss, grad_norm: o.gradNorm, learning_rate: o.learningRate })))
    expect(out.optimizer_steps).toHaveLength(2)
    for (const o of out.optimizer_steps) expect(o.grad_norm).toBeGreaterThan(0)
    expect(out.metrics).toEqual(JSON.parse(JSON.stringify(r.metrics)))
    // group advantages (TRL): (r − group mean) / (sample std + 1e-4)
    for (let g = 0; g < 2; g++) {
      const rs = rollout.rewards.slice(4 * g, 4 * g + 4)
      const m = rs.reduce((a, b) => a + b, 0) / 4
      const sd = Math.sqrt(rs.reduce((s, x) => s + (x - m) ** 2, 0) / 3)
      rs.forEach((x, j) => expect(out.advantages[4 * g + j]).toBeCloseTo((x - m) / (sd + 1e-4), 5))
    }
    for (const k of ['num_tokens', 'reward_std', 'kl', 'entropy', 'completions/mean_terminated_length', 'rewards/first_char/std']) {
      expect(out.metrics).toHaveProperty([k])
    }
  })

  it('reads the model from a Hugging Face folder as well, with the same result', async () => {
    const a = await cliJson<UpdateOutput>(['update', '--config', files.config, '--model', files.model, '--rollout', files.rollout])
    const b = await cliJson<UpdateOutput>(['update', '--config', files.config, '--model', files.hf, '--rollout', files.rollout])
    expect(b).toEqual(a)
  })

  const bad: [string, (f: ReturnType<typeof asFile>) => unknown, RegExp][] = [
    ['too few rows', (f) => ({ ...f, rewards: f.rewards.slice(1) }), /rewards: expected 8 finite numbers .*got 7/],
    ['a token id outside the vocabulary', (f) => ({ ...f, prompt_ids: f.prompt_ids.map((p, i) => (i === 2 ? [99, ...p] : p)) }), /prompt_ids\[2\]\[0\]: got 99; allowed: a token id from 0 to 11/],
    ['truncated that contradicts the end token', (f) => ({ ...f, truncated: f.truncated.map((t, i) => (i === 1 ? !t : t)) }), /truncated\[1\]: the completion (ends|does not end) with the end token/],
    ['the end token inside a completion', (f) => ({ ...f, completion_ids: f.completion_ids.map((c, i) => (i === 3 ? [0, ...c] : c)) }), /completion_ids\[3\]: the end token \(id 0\) at position 0/],
    ['a completion longer than max_completion_length', (f) => ({ ...f, completion_ids: f.completion_ids.map((c, i) => (i === 5 ? [1, 1, 1, 1, ...c] : c)) }), /completion_ids\[5\]: expected an array of 1 to 4 token ids/],
    ['rewards_per_func rows of the wrong width', (f) => ({ ...f, rewards_per_func: f.rewards_per_func!.map((r) => [...r, 1]) }), /rewards_per_func\[0\]: expected 2 scores, one per reward function \(accuracy, first_char\), got 3/],
    ['an unknown field', (f) => ({ ...f, logprobs: [] }), /logprobs: unknown field; allowed: prompt_ids, completion_ids, truncated, rewards, rewards_per_func/],
    ['a non-finite reward', (f) => ({ ...f, rewards: f.rewards.map((r, i) => (i === 0 ? 'x' : r)) }), /rewards\[0\]: got "x"; allowed: a finite number/],
  ]
  it.each(bad)('refuses %s: one line naming the field, exit status 2', async (_what, edit, message) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`)
    writeFileSync(file, JSON.stringify(edit(asFile(rollout))))
    const r = await runCli(['update', '--config', files.config, '--model', files.model, '--rollout', file])
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^grpo-lab update: /)
    expect(r.stderr).toMatch(message)
  })

  it('refuses missing flags and a missing rollout file, naming them', async () => {
    for (const [args, message] of [
      [['--config', files.config, '--model', files.model], /--rollout: required/],
      [['--config', files.config, '--rollout', files.rollout], /--model: required/],
      [['--model', files.model, '--rollout', files.rollout], /--config: required/],
      [['--config', files.config, '--model', files.model, '--rollout', join(dir, 'none.json')], /--rollout: cannot read/],
    ] as [string[], RegExp][]) {
      const r = await runCli(['update', ...args])
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(message)
    }
  })
})
