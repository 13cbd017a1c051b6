// The GRPO trainer's machinery on the CPU backend: microbatching, DAPO options, reference model.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { checkpointOf, loadSafetensors, saveSafetensors } from '../../src/model/checkpoint'
import { GPT } from '../../src/model/gpt'
import { CharTokenizer } from '../../src/model/tokenizer'
import { resolveRunConfig, RunConfigError } from '../../src/rl/config'
import { overlongPenalty } from '../../src/rl/rewards'
import { scheduledLearningRate } from '../../src/rl/schedule'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask } from '../../src/tasks/registry'

const ECHO = { task: 'echo', seed: 2, n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, num_generations: 4,
  prompts_per_step: 4, max_completion_length: 4, learning_rate: 1e-2, loss_type: 'dapo' }

async function oneStep(extra: Record<string, unknown>) {
  const trainer = GRPOTrainer.create(new CpuBackend('f64'), resolveRunConfig({ ...ECHO, ...extra }), getTask('echo'))
  const r = await trainer.trainStep()
  return { ...r, params: await trainer.model.readFlat() }
}

describe('GRPO trainer', () => {
  it('gradient accumulation over 2 microbatches gives the same update as one batch (dapo normalises by the whole batch)', async () => {
    const a = await oneStep({ gradient_accumulation_steps: 1 })
    const b = await oneStep({ gradient_accumulation_steps: 2 })
    expect(b.trace).toEqual(a.trace)
    expect(b.metrics.loss).toBeCloseTo(a.metrics.loss, 12)
    expect(b.metrics.grad_norm).toBeCloseTo(a.metrics.grad_norm, 9)
    let worst = 0
    a.params.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - b.params[i])) })
    expect(worst).toBeLessThan(1e-6)
  })

  it('grpo with gradient accumulation divides by the number of microbatches, as TRL does', async () => {
    const a = await oneStep({ loss_type: 'grpo', gradient_accumulation_steps: 1 })
    const b = await oneStep({ loss_type: 'grpo', gradient_accumulation_steps: 2 })
    expect(b.metrics.loss).toBeCloseTo(a.metrics.loss, 12)
  })

  it('μ = 2 with a reference model: two optimizer steps per rollout, the second one off-policy', async () => {
    const r = await oneStep({ num_iterations: 2, beta: 0.1, steps_per_generation: 2 })
    // 2 passes × 2 minibatches: the ratio moves away from 1 after the first update
    expect(r.metrics['ratio/max']).toBeGreaterThan(1)
    expect(r.metrics.kl).toBeGreaterThan(0)
  })

  it('mask_truncated_completions leaves truncated completions out of the loss', async () => {
    // max_completion_length 1: most completions are cut; the few that end at once are 1 token long
    const r = await oneStep({ max_completion_length: 1, mask_truncated_completions: true })
    const all = r.trace.groups.flatMap((g) => g.completions)
    const ended = all.filter((c) => !c.truncated)
    expect(ended.length).toBeGreaterThan(0)
    expect(ended.length).toBeLessThan(all.length)
    // μ = 1, β = 0, dapo: loss = Σ over counted tokens of −A / their count
    expect(r.metrics.loss).toBeCloseTo(-ended.reduce((s, c) => s + c.advantage, 0) / ended.length, 6)
    // unmasked, every completion has one token and group advantages sum to 0: the loss is 0
    const kept = await oneStep({ max_completion_length: 1, mask_truncated_completions: false })
    expect(kept.metrics.loss).toBeCloseTo(0, 6)
  })

  it('dynamic sampling resamples when groups have equal rewards, keeps only varied groups, and reports the rounds', async () => {
    const varied = (g: { completions: { reward: number }[] }) => g.completions.some((c) => c.reward !== g.completions[0].reward)
    const plain = await oneStep({})
    // a fresh model rarely scores: some first-round groups have equal rewards
    expect(plain.trace.groups.filter(varied).length).toBeLessThan(ECHO.prompts_per_step)
    const r = await oneStep({ dynamic_sampling: true, max_resample_rounds: 16 })
    const rounds = r.metrics['dynamic_sampling/rounds']
    expect(rounds).toBeGreaterThan(1)
    expect(rounds).toBeLessThan(16) // it found enough varied groups before the bound
    expect(r.trace.groups).toHaveLength(ECHO.prompts_per_step)
    for (const g of r.trace.groups) {
      expect(g.completions).toHaveLength(ECHO.num_generations)
      expect(varied(g)).toBe(true)
    }
    expect(r.metrics.frac_reward_zero_std).toBe(0)
    // bounded: with one round allowed, what it could not refill stays equal-reward, and says so
    const bounded = await oneStep({ dynamic_sampling: true, max_resample_rounds: 1 })
    expect(bounded.metrics['dynamic_sampling/rounds']).toBe(1)
    expect(bounded.trace.groups).toHaveLength(ECHO.prompts_per_step)
    expect(bounded.metrics.frac_reward_zero_std).toBeGreaterThan(0)
  })

  it('epsilon_high defaults to epsilon (TRL), unless given', () => {
    expect(resolveRunConfig({ ...ECHO, epsilon: 0.3 }).epsilon_high).toBe(0.3)
    expect(resolveRunConfig({ ...ECHO, epsilon: 0.3, epsilon_high: 0.28 }).epsilon_high).toBe(0.28)
    expect(resolveRunConfig({ ...ECHO }).epsilon_high).toBe(0.2)
  })

  it('rejects a configuration whose microbatches do not divide the rollout, naming the key', () => {
    expect(() => resolveRunConfig({ ...ECHO, gradient_accumulation_steps: 3 })).toThrow(RunConfigError)
    // the key the config set is named, not steps_per_generation, which it left at 1
    expect(() => resolveRunConfig({ ...ECHO, gradient_accumulation_steps: 3 })).toThrow(/^gradient_accumulation_steps: .* = 16 completions do not split/)
    expect(() => resolveRunConfig({ ...ECHO, n_head: 3 })).toThrow(/^n_head: n_head = 3 does not divide n_embd = 16; allowed: 1, 2, 4, 8, 16$/)
  })
})

describe('a loaded checkpoint whose context the config could not know', () => {
  it('is refused when the task\'s longest prompt and max_completion_length do not fit it, naming the numbers', async () => {
    const task = getTask('echo')
    const tokenizer = new CharTokenizer(task.alphabet)
    const small = new GPT(new CpuBackend('f32'), { vocabSize: tokenizer.vocabSize, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16 })
    small.initialize(1)
    const base = loadSafetensors(saveSafetensors(await checkpointOf(small, tokenizer)))
    // a URL: resolving cannot see its context, so the trainer checks it once loaded
    const config = (mcl: number) => resolveRunConfig({ ...ECHO, base_model: 'https://example.org/small.safetensors', max_completion_length: mcl })
    expect(() => GRPOTrainer.create(new CpuBackend('f32'), config(7), task, base)).toThrow(
      "max_completion_length: prompts of task echo take up to 2 characters, and with max_completion_length = 7 a sequence needs 9 positions: " +
      "more than the loaded model's context = 8; allowed: at most 6")
    GRPOTrainer.create(new CpuBackend('f32'), config(6), task, base).destroy()
  })
})

describe('cold start (supervised steps on worked examples before RL)', () => {
  const ADD = { task: 'addition', base_model: '', seed: 3, n_layer: 1, n_head: 2, n_embd: 16, block_size: 128, num_generations: 2,
    prompts_per_step: 4, max_completion_length: 40, learning_rate: 1e-3 }

  it('runs cold_start_steps supervised steps before the first GRPO step, lowering the loss on worked examples, and logs it', async () => {
    const first = async (steps: number) => {
      const t = GRPOTrainer.create(new CpuBackend('f32'), resolveRunConfig({ ...ADD, cold_start_steps: steps, cold_start_learning_rate: 1e-2 }), getTask('addition'))
      const r = await t.trainStep()
      return { metrics: r.metrics, params: await t.model.readFlat() }
    }
    const none = await first(0)
    const short = await first(1)
    const longer = await first(30)
    expect(none.metrics['cold_start/loss']).toBeUndefined()
    // a fresh model over 29 characters starts near ln 29 ≈ 3.37; 30 steps at 1e-2 learn the worked form's regularities
    expect(short.metrics['cold_start/loss']).toBeGreaterThan(2.5)
    expect(longer.metrics['cold_start/loss']).toBeLessThan(short.metrics['cold_start/loss'] - 1)
    expect(Array.from(longer.params)).not.toEqual(Array.from(none.params))
    // deterministic
    const again = await first(30)
    expect(again.metrics['cold_start/loss']).toBe(longer.metrics['cold_start/loss'])
    expect(Array.from(again.params)).toEqual(Array.from(longer.params))
  })

  it('is refused, naming the key, on a task without worked examples', () => {
    expect(() => resolveRunConfig({ ...ECHO, cold_start_steps: 5 })).toThrow(/^cold_start_steps: task 'echo' has no worked examples/)
  })
})

describe('DAPO soft overlong punishment', () => {
  it('is 0 up to L_max − L_cache, ramps linearly to −factor at L_max', () => {
    expect(overlongPenalty(10, 20, 0, 1)).toBe(0) // off
    expect(overlongPenalty(15, 20, 5, 1)).toBe(0)
    expect(overlongPenalty(17, 20, 5, 1)).toBeCloseTo(-0.4, 12)
    expect(overlongPenalty(20, 20, 5, 1)).toBeCloseTo(-1, 12)
    expect(overlongPenalty(20, 20, 5, 0.5)).toBeCloseTo(-0.5, 12)
  })
})

describe('learning-rate schedule (Hugging Face / TRL formulas, no warmup)', () => {
  it('linear and cosine decay to 0 over the run; constant stays', () => {
    expect(scheduledLearningRate('linear', 1e-4, 0, 300)).toBe(1e-4)
    expect(scheduledLearningRate('linear', 1e-4, 150, 300)).toBeCloseTo(5e-5, 15)
    expect(scheduledLearningRate('linear', 1e-4, 299, 300)).toBeCloseTo(1e-4 / 300, 15)
    expect(scheduledLearningRate('cosine', 1e-4, 75, 300)).toBeCloseTo(1e-4 * 0.5 * (1 + Math.SQRT1_2), 15)
    expect(scheduledLearningRate('cosine', 1e-4, 150, 300)).toBeCloseTo(5e-5, 15)
    expect(scheduledLearningRate('constant', 1e-4, 299, 300)).toBe(1e-4)
    expect(scheduledLearningRate('linear', 1e-4, 400, 300)).toBe(0) // past the end: never negative
  })

  it('the trainer counts optimizer updates over max_steps and logs the rate of each step', async () => {
    const run = GRPOTrainer.create(new CpuBackend('f64'), resolveRunConfig({ ...ECHO, max_steps: 3, steps_per_generation: 2 }), getTask('echo'))
    const rates = []
    for (let s = 0; s < 3; s++) rates.push((await run.trainStep()).metrics.learning_rate)
    // 6 updates; each step logs the rate of its first update: u = 0, 2, 4
    expect(rates[0]).toBe(1e-2)
    expect(rates[1]).toBeCloseTo(1e-2 * (1 - 2 / 6), 15)
    expect(rates[2]).toBeCloseTo(1e-2 * (1 - 4 / 6), 15)
  })

  it('the update uses the scheduled rate: linear over 2 steps = constant with the rate halved before step 2', async () => {
    const linear = GRPOTrainer.create(new CpuBackend('f64'), resolveRunConfig({ ...ECHO, max_steps: 2 }), getTask('echo'))
    const cfg = resolveRunConfig({ ...ECHO, max_steps: 2, lr_scheduler_type: 'constant' })
    const constant = GRPOTrainer.create(new CpuBackend('f64'), cfg, getTask('echo'))
    await linear.trainStep(); await constant.trainStep()
    cfg.learning_rate = ECHO.learning_rate / 2
    await linear.trainStep(); await constant.trainStep()
    expect(await linear.model.readFlat()).toEqual(await constant.model.readFlat())
    const unhalved = GRPOTrainer.create(new CpuBackend('f64'), resolveRunConfig({ ...ECHO, max_steps: 2, lr_scheduler_type: 'constant' }), getTask('echo'))
    await unhalved.trainStep(); await unhalved.trainStep()
    expect(await unhalved.model.readFlat()).not.toEqual(await linear.model.readFlat())
  })
})
