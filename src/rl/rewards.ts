// Rule rewards for a batch of completions: each of the task's reward functions, weighted and
// summed as TRL does (r = Σ w_f · R_f), plus DAPO's soft overlong punishment when enabled.
import type { Problem, Task } from '../tasks/types'

export interface ScoredCompletion {
  /** score of each reward function, by name, before weighting */
  byFunction: Record<string, number>
  /** DAPO soft overlong punishment (≤ 0), 0 when off */
  overlong: number
  total: number
  correct: boolean
}

/** The weights in use: the config's when given (same order as the task's functions), else the task's. */
export function rewardWeights(task: Task, configured: readonly number[]): number[] {
  if (configured.length === 0) return task.rewardFunctions.map((f) => f.weight)
  if (configured.length !== task.rewardFunctions.length) {
    throw new Error(`reward_weights: task '${task.id}' has ${task.rewardFunctions.length} reward functions ` +
      `(${task.rewardFunctions.map((f) => f.name).join(', ')}), got ${configured.length} weights`)
  }
  return [...configured]
}

/**
 * DAPO's soft overlong punishment: 0 up to L_max − L_cache tokens, then a linear ramp down to
 * −factor at L_max (and below for longer).
 */
export function overlongPenalty(length: number, maxLength: number, buffer: number, factor: number): number {
  const exceed = length - (maxLength - buffer)
  if (buffer <= 0 || exceed <= 0) return 0
  return (-exceed / buffer) * factor
}

export function scoreCompletion(task: Task, weights: readonly number[], problem: Problem, text: string,
  lengthTokens: number, overlong?: { maxLength: number; buffer: number; factor: number }): ScoredCompletion {
  const byFunction: Record<string, number> = {}
  let total = 0
  task.rewardFunctions.forEach((f, i) => {
    const r = f.score(text, problem)
    byFunction[f.name] = r
    total += weights[i] * r
  })
  const penalty = overlong ? overlongPenalty(lengthTokens, overlong.maxLength, overlong.buffer, overlong.factor) : 0
  return { byFunction, overlong: penalty, total: total + penalty, correct: task.isCorrect(text, problem) }
}

const REFLECTION = /\b(wait|check|recheck|verify|hmm|mistake|oops)\b/i

/** True when a completion shows reflection: a word of noticing or checking. */
export function hasReflection(text: string): boolean {
  return REFLECTION.test(text)
}
