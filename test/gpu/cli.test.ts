// The grpo-lab command as a user runs it: bin/grpo-lab.mjs in a child process. Each test waits
// for its commands to exit, under a generous outer limit: on a loaded machine with SwiftShader a
// WebGPU run takes a while, and a duration is no reason to fail.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadSafetensors } from '../../src/model/checkpoint'
import { GRPO_CASES } from '../fixtures/grpoCases'

const BIN = join(__dirname, '../../bin/grpo-lab.mjs')
const RUNS = { timeout: 10 * 60_000 } // the outer limit of a test that trains or starts WebGPU

/** Run the command; resolves when it exits, with its status and output. */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args])
    let stdout = ''; let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}
const tmp = () => mkdtempSync(join(tmpdir(), 'grpo-lab-'))

const ECHO = { task: 'echo', base_model: '', seed: 3, n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, num_generations: 4,
  prompts_per_step: 4, max_completion_length: 4, learning_rate: 5e-3, max_steps: 4, beta: 0.04, num_iterations: 2 }

/** metrics.jsonl without its timing field */
function metricsOf(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const m = JSON.parse(l); delete m.step_time; return m
  })
}

describe('grpo-lab train', () => {
  for (const backend of ['cpu', 'reference', 'webgpu']) {
    it(`writes metrics.jsonl and traces.jsonl, identical for the same config and seed (${backend}${backend === 'cpu' ? ', on 1 and 3 threads' : ''})`, RUNS, async () => {
      const dir = tmp()
      const config = join(dir, 'config.json')
      writeFileSync(config, JSON.stringify(ECHO))
      const runs = [join(dir, 'a'), join(dir, 'b')]
      for (const [i, out] of runs.entries()) {
        const threads = backend === 'cpu' ? ['--threads', String(1 + 2 * i)] : []
        const r = await cli('train', '--config', config, '--backend', backend, ...threads, '--out', out)
        if (backend === 'cpu') expect(r.stderr).toMatch(new RegExp(`CPU backend \\(WebAssembly SIMD.*, ${1 + 2 * i} threads?\\)`))
        expect(r.stderr).toMatch(/step 4\/4/)
        expect(r.status).toBe(0)
      }
      const [a, b] = runs.map(metricsOf)
      expect(a).toHaveLength(4)
      expect(b).toEqual(a)
      const m = a[0] as Record<string, number>
      for (const k of ['reward', 'reward_std', 'rewards/accuracy/mean', 'completions/mean_length', 'completions/clipped_ratio',
        'kl', 'entropy', 'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'frac_reward_zero_std',
        'grad_norm', 'loss', 'learning_rate', 'accuracy', 'dispatches', 'readbacks']) expect(m).toHaveProperty([k])
      expect(m.readbacks).toBe(2) // the rollout's tokens and the step's report
      const trace = JSON.parse(readFileSync(join(runs[0], 'traces.jsonl'), 'utf8').split('\n')[0])
      expect(trace.groups).toHaveLength(4)
      expect(trace.groups[0].completions[0]).toHaveProperty('advantage')
      // the trained policy, the same bits from both runs, which eval reads
      const model = readFileSync(join(runs[0], 'model.safetensors'))
      expect(readFileSync(join(runs[1], 'model.safetensors')).equals(model)).toBe(true)
      expect(loadSafetensors(new Uint8Array(model)).metadata).toMatchObject({ task: 'echo', step: '4' })
    })
  }

  it('takes a share link, and --steps and --seed on top', RUNS, async () => {
    const out = join(tmp(), 'run')
    const r = await cli('train', '--link', 'http://localhost/#v=1&task=echo&base_model=&n_layer=1&n_embd=16&n_head=2&block_size=16&max_completion_length=4&num_generations=2&prompts_per_step=2',
      '--steps', '2', '--seed', '9', '--backend', 'cpu', '--out', out)
    expect(r.status).toBe(0)
    expect(metricsOf(out)).toHaveLength(2)
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).config.seed).toBe(9)
  })

  it('--stop-after N stops the run after step N, its learning-rate schedule still spanning max_steps', RUNS, async () => {
    const out = join(tmp(), 'run')
    const r = await cli('train', '--link', '#v=1&task=echo&base_model=&n_layer=1&n_embd=16&n_head=2&block_size=16&max_completion_length=4&num_generations=2&prompts_per_step=2&learning_rate=0.01',
      '--steps', '4', '--stop-after', '2', '--backend', 'cpu', '--out', out)
    expect(r.status).toBe(0)
    // linear over 4 updates: the second step's rate is 0.01 × (1 − 1/4)
    expect(metricsOf(out).map((m) => m.learning_rate)).toEqual([0.01, 0.01 * (1 - 1 / 4)])
  })

  it.each([
    [['train', '--link', '#v=1&num_generations=1'], /num_generations: got 1; allowed: an integer from 2 to 64/],
    [['train', '--steps', 'ten', '--backend', 'cpu'], /--steps: got "ten"; allowed: an integer from 1 to 100000/],
    [['train', '--backend', 'tpu'], /--backend: got "tpu"; allowed: webgpu, cpu, reference/],
    [['train', '--backend', 'webgpu', '--threads', '2'], /--threads: only with --backend cpu \(got --backend webgpu\)/],
    [['train', '--backend', 'cpu', '--threads', '0'], /--threads: got "0"; allowed: an integer from 1 to 256/],
    [['train', '--steps', '5', '--stop-after', '6', '--backend', 'cpu'], /--stop-after: got "6"; allowed: an integer from 1 to 5/],
    [['train', '--config', '/nonexistent.json'], /--config: cannot read/],
    [['train', '--link', '#v=1&loss_type=ppo'], /loss_type: got "ppo"; allowed: grpo, bnpo, dr_grpo, dapo/],
    [['worksheet', '--input', '/nonexistent.json'], /--input: cannot read/],
    [['score', '--task', 'chess', '--problem', '{}', '--completion', 'x'], /task: unknown task 'chess'/],
    [['score', '--task', 'addition', '--problem', '{"a": "x", "b": 1}', '--completion', 'x'], /^grpo-lab score: a: /],
    [['fly'], /fly: unknown command; allowed: train, pretrain, eval, worksheet, score/],
    [['train', '--config', 'run.json', '--link', '#v=1&seed=3'], /^grpo-lab train: --config, --link: give one of them, not both/],
  ])('invalid input %j: one line naming the field, exit status 2', async (args, message) => {
    const r = await cli(...args)
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(message)
  })
})

describe('grpo-lab worksheet', () => {
  it('computes the same GRPO loss on every backend (to 1e-5)', RUNS, async () => {
    const file = join(tmp(), 'ws.json')
    writeFileSync(file, JSON.stringify(GRPO_CASES.far_outside_clip.input))
    const outs = []
    for (const b of ['cpu', 'webgpu', 'reference']) {
      const r = await cli('worksheet', '--backend', b, '--input', file)
      expect(r.status, r.stderr).toBe(0)
      outs.push(JSON.parse(r.stdout))
    }
    expect(outs[0].advantages).toHaveLength(4)
    expect(Math.abs(outs[0].loss - GRPO_CASES.far_outside_clip.expected.loss)).toBeLessThan(1e-5)
    expect(Math.abs(outs[1].loss - outs[0].loss)).toBeLessThan(1e-5)
    expect(Math.abs(outs[2].loss - outs[0].loss)).toBeLessThan(1e-5)
    expect(outs[0].metrics).not.toHaveProperty('kl') // β = 0: TRL logs no kl
    for (const k of ['entropy', 'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'clip_ratio/low_min', 'clip_ratio/high_max', 'frac_reward_zero_std']) {
      expect(outs[0].metrics, k).toHaveProperty(k)
      expect(Math.abs(outs[1].metrics[k] - outs[0].metrics[k])).toBeLessThan(1e-5)
    }
    expect(outs[0].completions[0]).toHaveProperty('objective')
    expect(outs[0].completions[0]).toHaveProperty('kl')
    expect(outs[0].completions[0]).toHaveProperty('clipped')
  })
})

describe('grpo-lab score', () => {
  it('scores an addition completion per reward function, with the total', async () => {
    const r = await cli('score', '--task', 'addition', '--problem', '{"a": 47, "b": 85}', '--completion', '7+5=12 c1 </think><answer>132</answer>')
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j.accuracy).toBe(1)
    expect(j.format).toBe(1)
    expect(j.total).toBeCloseTo(1.1, 10)
  })

  it.each([
    ['</think><answer>(50-2)/6+71</answer>', 1.0],
    ['</think><answer>50+2+6+71</answer>', 0.1],
    ['no answer at all', 0],
  ])('scores countdown as TinyZero does: %s → %s', async (completion, total) => {
    const r = await cli('score', '--task', 'countdown', '--problem', '{"numbers": [50, 2, 6, 71], "target": 79}', '--completion', completion)
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout).total).toBeCloseTo(total, 10)
  })
})
