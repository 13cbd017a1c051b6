// The worksheet's reward sandbox against the trainer itself: an unedited group gives back the
// trace's rewards and advantages, an edited one the advantages GRPOTrainer.update computes for
// it, scored by the same reward functions (with the run's weights and overlong punishment).
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { presetById } from '../../src/lab/presets'
import { EOS_ID } from '../../src/model/tokenizer'
import { resolveRunConfig, type RunConfig } from '../../src/rl/config'
import { scoreCompletion } from '../../src/rl/rewards'
import {
  exampleGroup, problemOfPrompt, recomputeGroup, SandboxError, type SandboxCompletion, scoreSandboxGroup,
} from '../../src/rl/sandbox'
import { GRPOTrainer } from '../../src/rl/trainer'
import { getTask, TASK_IDS } from '../../src/tasks/registry'
import type { Problem } from '../../src/tasks/types'

const ECHO = { task: 'echo', seed: 3, n_layer: 1, n_head: 2, n_embd: 16, block_size: 16, num_generations: 8,
  prompts_per_step: 4, max_completion_length: 4, learning_rate: 1e-2 }
const echo = getTask('echo')

/** One step of a fresh echo run: the trainer's trace. */
async function traced(extra: Record<string, unknown>) {
  const config = resolveRunConfig({ ...ECHO, ...extra })
  const trainer = GRPOTrainer.create(new CpuBackend('f64'), config, echo)
  const { trace } = await trainer.trainStep()
  trainer.destroy()
  return { config, trace }
}

/** The advantages GRPOTrainer.update computes for one group of texts, scored as its rollout scores them. */
async function trainerAdvantages(config: RunConfig, problem: Problem, texts: string[]): Promise<number[]> {
  const trainer = GRPOTrainer.create(new CpuBackend('f64'), config, echo)
  const names = trainer.rewardFunctionNames()
  const overlong = config.overlong_buffer_length > 0
    ? { maxLength: config.max_completion_length, buffer: config.overlong_buffer_length, factor: config.overlong_penalty_factor } : undefined
  const ids = texts.map((t) => { const x = trainer.tokenizer.encode(t); return x.length < config.max_completion_length ? x.concat(EOS_ID) : x })
  const scores = texts.map((t, i) => scoreCompletion(echo, trainer.weights, problem, t, ids[i].length, overlong))
  const up = await trainer.update({
    promptIds: texts.map(() => trainer.tokenizer.encode(problem.prompt)), completionIds: ids,
    truncated: ids.map((x) => x.at(-1) !== EOS_ID), rewards: scores.map((s) => s.total),
    rewardsPerFunc: scores.map((s) => names.map((n) => (n === 'overlong' ? s.overlong : s.byFunction[n]))),
  })
  trainer.destroy()
  return up.advantages
}

describe('reward sandbox', () => {
  it('reads every task’s prompts back into the problem (its own parseProblem, prompt unchanged)', () => {
    for (const id of TASK_IDS) {
      const task = getTask(id)
      for (const split of ['train', 'test'] as const) {
        for (let i = 0; i < 20; i++) {
          const p = task.problem(split, 5, i)
          const q = problemOfPrompt(task, p.prompt)
          expect(q.prompt).toBe(p.prompt)
          expect(q.data).toEqual(p.data)
          expect(q.split).toBe(p.split)
        }
      }
    }
    expect(() => problemOfPrompt(echo, '12>')).toThrow(/"12>" is not in task 'echo''s form/)
    expect(() => problemOfPrompt(getTask('addition'), '1+2=?<think>')).toThrow(/reads as "001\+002=\?<think>"/)
  })

  for (const [name, extra] of [
    ['scale_rewards group', {}],
    ['scale_rewards none', { scale_rewards: 'none' }],
    ['reward_weights [2, 0.25]', { reward_weights: [2, 0.25] }],
    ['DAPO overlong punishment', { overlong_buffer_length: 2, overlong_penalty_factor: 1 }],
    ['normalize_then_sum, one group a step', { multi_objective_aggregation: 'normalize_then_sum', prompts_per_step: 1, num_generations: 16 }],
    ['scale_rewards batch, one group a step', { scale_rewards: 'batch', prompts_per_step: 1, num_generations: 16 }],
  ] as const) {
    it(`an unedited group gives back the trace’s rewards and advantages (${name})`, async () => {
      const { config, trace } = await traced(extra)
      let varied = 0
      for (const g of trace.groups) {
        const problem = problemOfPrompt(echo, g.prompt)
        expect(problem.answer).toBe(g.answer)
        const r = await recomputeGroup(new CpuBackend('f64'), echo, config, problem, g.completions.map((c) => ({ text: c.text, truncated: c.truncated })), null)
        r.group.completions.forEach((c, i) => {
          const t = g.completions[i]
          const { overlong, ...byFunction } = c.byFunction
          expect(byFunction).toEqual(t.rewards)
          if ('overlong_buffer_length' in extra) expect(overlong).toBeLessThanOrEqual(0)
          else expect(overlong).toBeUndefined()
          expect(c.total).toBeCloseTo(t.reward, 12)
          expect([c.tokens, c.truncated, c.correct]).toEqual([t.length, t.truncated, t.correct])
        })
        r.out.advantages.forEach((a, i) => expect(a).toBeCloseTo(g.completions[i].advantage, 5))
        if (r.out.advantages.some((a) => a !== 0)) varied++
      }
      expect(varied).toBeGreaterThan(0) // some group had differing rewards: the advantages were tested
    })
  }

  it('an edited group: the task’s rewards, and the advantages GRPOTrainer.update computes for it', async () => {
    for (const extra of [{}, { scale_rewards: 'none' }, { reward_weights: [2, 0.25] }, { overlong_buffer_length: 2 }, { multi_objective_aggregation: 'normalize_then_sum' }]) {
      const config = resolveRunConfig({ ...ECHO, ...extra })
      const problem = problemOfPrompt(echo, '3>')
      const texts = ['3', '33', '0', '', '3333', '31', '7', '3']
      const r = await recomputeGroup(new CpuBackend('f64'), echo, config, problem, texts.map((text) => ({ text })), null)
      // echo's functions: accuracy (weight 1) = the text is the digit; first_char (0.5) = it starts with it
      expect(r.group.completions.map((c) => [c.byFunction.accuracy, c.byFunction.first_char]))
        .toEqual([[1, 1], [0, 1], [0, 0], [0, 0], [0, 1], [0, 1], [0, 0], [1, 1]])
      expect(r.group.completions[4]).toMatchObject({ tokens: 4, truncated: true })
      expect(r.group.completions[0]).toMatchObject({ tokens: 2, truncated: false })
      const want = await trainerAdvantages(config, problem, texts)
      r.out.advantages.forEach((a, i) => expect(a).toBeCloseTo(want[i], 5))
    }
  })

  it('group advantages by hand: rewards [1.5, 0.5, 0, 0] → (r − 0.5) / (std + 1e-4)', async () => {
    const config = resolveRunConfig({ ...ECHO, num_generations: 4 })
    const r = await recomputeGroup(new CpuBackend('f64'), echo, config, problemOfPrompt(echo, '3>'), ['3', '33', '0', ''].map((text) => ({ text })), null)
    expect(r.group.completions.map((c) => c.total)).toEqual([1.5, 0.5, 0, 0])
    const std = Math.sqrt((1 + 0 + 0.25 + 0.25) / 3)
    r.out.advantages.forEach((a, i) => expect(a).toBeCloseTo(([1.5, 0.5, 0, 0][i] - 0.5) / (std + 1e-4), 6))
    expect(r.withModel).toBe(false)
  })

  it('with log-probs the loss follows them (grpo, β = 0, μ = 1: 0, as the worksheet explains); without, every token reads −1', async () => {
    const config = resolveRunConfig({ ...ECHO, num_generations: 4, loss_type: 'grpo', beta: 0 })
    const comps: SandboxCompletion[] = ['3', '33', '0', ''].map((text) => ({ text }))
    const logp = [[-0.1, -0.2], [-1, -2, -0.5], [-3, -0.1], [-0.7]]
    const r = await recomputeGroup(new CpuBackend('f64'), echo, config, problemOfPrompt(echo, '3>'), comps, logp)
    expect(r.withModel).toBe(true)
    expect(r.out.loss).toBeCloseTo(0, 9)
    // the gradient is −A_i / |o_i| per token (grpo's sequence mean), |o_i| the log-probs given
    r.out.completions.forEach((c, i) => c.grad.forEach((g) => expect(g).toBeCloseTo(-r.out.advantages[i] / logp[i].length / 4, 6)))
    const none = await recomputeGroup(new CpuBackend('f64'), echo, config, problemOfPrompt(echo, '3>'), comps, null)
    expect(none.out.completions.map((c) => c.ratio.length)).toEqual([2, 3, 2, 1])
    expect(() => scoreSandboxGroup(echo, config, problemOfPrompt(echo, '3>'), comps.slice(0, 1))).toThrow(/at least 2 completions/)
    await expect(recomputeGroup(new CpuBackend('f64'), echo, config, problemOfPrompt(echo, '3>'), comps, logp.slice(1))).rejects.toThrow(/log-probs for 3 completions/)
  })

  it('refuses a character outside the task’s alphabet and a text longer than max_completion_length, naming what is allowed', () => {
    const config = resolveRunConfig(ECHO)
    const p = problemOfPrompt(echo, '3>')
    expect(() => scoreSandboxGroup(echo, config, p, [{ text: '3' }, { text: '3a' }]))
      .toThrow(new SandboxError(`completion 2: "a" is not a character of task 'echo'; allowed: "0123456789>"`))
    expect(() => scoreSandboxGroup(echo, config, p, [{ text: '33333' }, { text: '3' }]))
      .toThrow(/completion 1 has 5 characters; allowed: at most max_completion_length = 4/)
    // what the model sampled is taken as it is (a base model's tokenizer may be wider than the task's)
    const sampled = scoreSandboxGroup(echo, config, p, [{ text: '3a', truncated: false }, { text: '3333', truncated: true }])
    expect(sampled.completions.map((c) => [c.tokens, c.truncated, c.total])).toEqual([[3, false, 0.5], [4, true, 0.5]])
  })

  it('every task has an example group with rewards that differ (something for the advantages to show)', async () => {
    // each task's preset: its base model has the task's characters
    for (const id of ['addition', 'countdown', 'echo']) {
      const config = resolveRunConfig(presetById(id)!.values)
      const task = getTask(config.task)
      const { problem, completions } = exampleGroup(task, config)
      const r = await recomputeGroup(new CpuBackend('f64'), task, config, problem, completions, null)
      expect(new Set(r.group.completions.map((c) => c.total)).size).toBeGreaterThan(1)
      expect(r.out.advantages.some((a) => a > 0)).toBe(true)
      expect(r.group.completions.some((c) => c.correct)).toBe(true)
    }
    expect(TASK_IDS).toEqual(['addition', 'countdown', 'echo']) // a new task: add its preset above
  })
})
