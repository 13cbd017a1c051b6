// The worksheet's reward sandbox: a group's completions, edited by a student, scored again by the
// task's own reward functions (scoreCompletion, as the trainer scores a rollout, with the run's
// weights and DAPO's overlong punishment) and taken through computeWorksheet (the advantage and
// loss kernels' CPU twins) — the numbers training would have seen for that text.
// No UI here: the page's RewardSandbox and the unit tests both call it.

import type { Backend } from '../engine/backend'
import type { Problem, Task } from '../tasks/types'
import type { RunConfig } from './config'
import { rewardWeights, scoreCompletion } from './rewards'
import { computeWorksheet, parseWorksheetInput, type ParsedWorksheetInput, type WorksheetOutput } from './worksheet'

/** A completion of the group as the sandbox takes it: its text, and whether sampling cut it. */
export interface SandboxCompletion {
  text: string
  /** the sampler's flag for an unedited completion; absent: decided from the length (see tokensOf) */
  truncated?: boolean
}

export interface ScoredSandboxCompletion {
  text: string
  /** tokens the trainer would count: one per character, plus the end token unless truncated */
  tokens: number
  truncated: boolean
  /** each reward function's score, by name, before weighting (and `overlong` when DAPO's is on) */
  byFunction: Record<string, number>
  /** Σ w_f · R_f (+ the overlong punishment): the trainer's reward */
  total: number
  correct: boolean
}

export interface ScoredSandboxGroup {
  /** the reward functions the update sees, in order (the trainer's rewardFunctionNames) */
  names: string[]
  /** their weights: the run's reward_weights, else the task's; overlong's is 1 */
  weights: number[]
  completions: ScoredSandboxCompletion[]
}

export class SandboxError extends Error {}

/** How each task writes a problem into its prompt: the prompt → the problem's JSON form. The
 *  trace keeps only the prompt, and a task's prompt must show the whole problem to the model. */
const PROMPT_FORMS: Record<string, (prompt: string) => unknown> = {
  addition: (p) => { const m = /^(\d+)\+(\d+)=\?<think>$/.exec(p); return m && { a: Number(m[1]), b: Number(m[2]) } },
  countdown: (p) => {
    const m = /^\[(\d+(?:,\d+)*)\]=(-?\d+)\?<think>$/.exec(p)
    return m && { numbers: m[1].split(',').map(Number), target: Number(m[2]) }
  },
  echo: (p) => { const m = /^(\d)>$/.exec(p); return m && { digit: Number(m[1]) } },
}

/** The problem a prompt states, through the task's own parseProblem; the prompt must come back
 *  unchanged (so a problem is never guessed). */
export function problemOfPrompt(task: Task, prompt: string): Problem {
  const form = Object.hasOwn(PROMPT_FORMS, task.id) ? PROMPT_FORMS[task.id] : undefined
  if (!form) throw new SandboxError(`the reward sandbox cannot read task '${task.id}''s prompts; it reads: ${Object.keys(PROMPT_FORMS).join(', ')}`)
  const data = form(prompt)
  if (!data) throw new SandboxError(`prompt ${JSON.stringify(prompt)} is not in task '${task.id}''s form`)
  const problem = task.parseProblem(data)
  if (problem.prompt !== prompt) throw new SandboxError(`prompt ${JSON.stringify(prompt)} reads as ${JSON.stringify(problem.prompt)}: not a prompt task '${task.id}' writes`)
  return problem
}

/**
 * Tokens of a completion as the trainer counts them (the character tokenizer: one per character;
 * the sampled end token counts too), and whether it was cut. An edited text is cut when it fills
 * max_completion_length (the sampler stops there without an end token), else it ended. Refused in
 * an edited text: a character outside the task's alphabet (a tokenizer of the task need not have
 * it) and a text longer than the sampler could write.
 */
export function tokensOf(task: Task, config: RunConfig, c: SandboxCompletion, index: number): { tokens: number; truncated: boolean } {
  const chars = Array.from(c.text)
  // a sampled completion (its flag known) is what the model wrote: a base model's wider tokenizer may have written anything
  if (c.truncated !== undefined) return { tokens: chars.length + (c.truncated ? 0 : 1), truncated: c.truncated }
  const alien = chars.find((ch) => !task.alphabet.includes(ch))
  if (alien !== undefined) {
    throw new SandboxError(`completion ${index + 1}: ${JSON.stringify(alien)} is not a character of task '${task.id}'; allowed: ${JSON.stringify(task.alphabet)}`)
  }
  const max = config.max_completion_length
  if (chars.length > max) {
    throw new SandboxError(`completion ${index + 1} has ${chars.length} characters; allowed: at most max_completion_length = ${max} (the run never samples longer)`)
  }
  const truncated = chars.length === max
  return { tokens: chars.length + (truncated ? 0 : 1), truncated }
}

/** Each completion scored as the trainer's rollout scores it (scoreCompletion with the run's weights). */
export function scoreSandboxGroup(task: Task, config: RunConfig, problem: Problem, completions: SandboxCompletion[]): ScoredSandboxGroup {
  if (completions.length < 2) throw new SandboxError(`a group needs at least 2 completions; got ${completions.length}`)
  const weights = rewardWeights(task, config.reward_weights)
  const overlong = config.overlong_buffer_length > 0
    ? { maxLength: config.max_completion_length, buffer: config.overlong_buffer_length, factor: config.overlong_penalty_factor } : undefined
  const names = task.rewardFunctions.map((f) => f.name).concat(overlong ? ['overlong'] : [])
  return {
    names,
    weights: weights.concat(overlong ? [1] : []),
    completions: completions.map((c, i) => {
      const { tokens, truncated } = tokensOf(task, config, c, i)
      const s = scoreCompletion(task, weights, problem, c.text, tokens, overlong)
      return { text: c.text, tokens, truncated, byFunction: overlong ? { ...s.byFunction, overlong: s.overlong } : s.byFunction, total: s.total, correct: s.correct }
    }),
  }
}

/** The run's GRPOConfig keys the worksheet takes, with the reward functions' weights. */
export function sandboxWorksheetConfig(c: RunConfig, group: ScoredSandboxGroup, longest: number) {
  const { loss_type, scale_rewards, epsilon, epsilon_high, beta, mask_truncated_completions, importance_sampling_level, delta,
    top_entropy_quantile, entropy_coef, sapo_temperature_pos, sapo_temperature_neg, vespo_k_pos, vespo_lambda_pos, vespo_k_neg,
    vespo_lambda_neg, multi_objective_aggregation } = c
  return { loss_type, scale_rewards, epsilon, epsilon_high, beta, mask_truncated_completions, importance_sampling_level, delta,
    top_entropy_quantile, entropy_coef, sapo_temperature_pos, sapo_temperature_neg, vespo_k_pos, vespo_lambda_pos, vespo_k_neg,
    vespo_lambda_neg, multi_objective_aggregation, reward_weights: group.weights,
    max_completion_length: Math.max(c.max_completion_length, longest) }
}

/**
 * The worksheet input of a scored group: each reward function's score per completion (so the
 * weights and multi_objective_aggregation apply as in training) and each completion's per-token
 * log-probs. Without a model (logp null) every token reads −1: the advantages do not depend on it,
 * the loss does (the caller says so and does not show it).
 */
export function sandboxWorksheetInput(config: RunConfig, group: ScoredSandboxGroup, logp: number[][] | null): ParsedWorksheetInput {
  if (logp && logp.length !== group.completions.length) {
    throw new SandboxError(`log-probs for ${logp.length} completions; the group has ${group.completions.length}`)
  }
  const rows = group.completions.map((c, i) => {
    const l = logp ? logp[i] : Array.from({ length: c.tokens }, () => -1)
    return l.length ? l : [-1] // an empty completion still has its end token's place
  })
  return parseWorksheetInput({
    config: sandboxWorksheetConfig(config, group, Math.max(...rows.map((l) => l.length))),
    groups: [{
      rewards_per_func: group.completions.map((c) => group.names.map((n) => c.byFunction[n])),
      completions: rows.map((l, i) => ({ logp: l, truncated: group.completions[i].truncated })),
    }],
  })
}

export interface SandboxResult {
  group: ScoredSandboxGroup
  out: WorksheetOutput
  /** false: no model gave log-probs, so out.loss (and every per-token number) is not the run's */
  withModel: boolean
}

/** An edited group → rewards (the task's functions) → advantages and, with log-probs, the loss. */
export async function recomputeGroup(be: Backend, task: Task, config: RunConfig, problem: Problem,
  completions: SandboxCompletion[], logp: number[][] | null): Promise<SandboxResult> {
  const group = scoreSandboxGroup(task, config, problem, completions)
  const out = await computeWorksheet(be, sandboxWorksheetInput(config, group, logp))
  return { group, out, withModel: logp !== null }
}

/**
 * A group to start from when there is no run: a train problem of the config's seed (the task's
 * first worked example's, when it has them) and texts a student can tell apart — worked out, a
 * direct right answer, a wrong one, one without the format — fitted to the run's length and G.
 */
export function exampleGroup(task: Task, config: RunConfig): { problem: Problem; completions: SandboxCompletion[] } {
  const worked = task.workedExample?.(config.seed, 0)
  const problem = worked ? problemOfPrompt(task, worked.prompt) : task.problem('train', config.seed, 0)
  const a = problem.answer
  // the R1-Zero template where the task scores format; echo's toy has none
  const templated = task.rewardFunctions.some((f) => f.name === 'format')
  const texts = (templated
    ? [worked?.completion, `</think><answer>${a}</answer>`, '</think><answer>0</answer>', a]
    : [a, a + a, a === '0' ? '1' : '0', ''])
    .filter((t): t is string => t !== undefined && Array.from(t).length < config.max_completion_length &&
      Array.from(t).every((ch) => task.alphabet.includes(ch)))
  const G = Math.max(2, Math.min(config.num_generations, texts.length))
  while (texts.length < G) texts.push('')
  return { problem, completions: texts.slice(0, G).map((text) => ({ text })) }
}
