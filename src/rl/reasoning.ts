// How completions reason, as metrics: tries (answers tried, a "try again"), checks (a verification
// step), "wait"s, and whether the answer given was checked — and how often checked and unchecked
// answers are right. A task that defines its own reasoning format reads it (Task.reasoning); any
// other task falls back on reflection words. The word list follows oat-zero's self-reflection
// analysis (sail-sg/oat-zero, analysis/eval_self_reflect.py: recheck, rethink, re-evaluate,
// reevaluate, re-examine, check again, try again), split here into tries and checks, with
// "reassess" added, and "wait" counted on its own (R1-Zero's "aha" word).
import type { Reasoning, Task } from '../tasks/types'

export type { Reasoning }

// words that abandon an answer for another
const RETRY = /\b(?:try(?:ing)? again|re-?evaluat(?:e|ed|ing|ion)|rethink(?:ing)?|reassess(?:ing)?|re-?examin(?:e|ed|ing))\b/gi
// words that verify one (a "check again" is one check)
const CHECK = /\b(?:re-?check(?:ed|ing)?|double-check(?:ed|ing)?|check(?:ed|ing)?(?: again)?|verif(?:y|ied|ying))\b/gi
const WAIT = /\bwait\b/gi

const positions = (re: RegExp, text: string): number[] => [...text.matchAll(re)].map((m) => m.index)

/** The reflection-word reading of a completion, for tasks without their own format. */
export function reflectionReasoning(text: string): Reasoning {
  const retries = positions(RETRY, text)
  const checks = positions(CHECK, text)
  const waits = positions(WAIT, text)
  const last = (xs: number[]) => (xs.length ? xs[xs.length - 1] : -1)
  // as Task.reasoning defines it: the answer's try was checked, and nothing said "wait" after the check
  const lastCheck = last(checks)
  return {
    tries: 1 + retries.length,
    checks: checks.length,
    waits: waits.length,
    verified: lastCheck > last(retries) && lastCheck > last(waits),
  }
}

/** A completion's reasoning: the task's own reading when it has one, else the reflection words. */
export function reasoningOf(task: Task, text: string): Reasoning {
  return task.reasoning ? task.reasoning(text) : reflectionReasoning(text)
}

/** The mean, NaN for an empty set (a rate of nothing is unknown, not 0: charts leave a gap). */
export function meanOrNaN(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN
}

/**
 * The reasoning metrics of a batch of completions (texts) and whether each is right. A try is
 * counted when a completion tries ≥ 2 answers or says it tries again (also for a task whose
 * reading counts tries its own way). `prefix` is '' for training, 'eval/' for evaluation.
 */
export function reasoningMetrics(task: Task, texts: readonly string[], correct: readonly boolean[], prefix = ''): Record<string, number> {
  if (texts.length !== correct.length) {
    throw new Error(`reasoningMetrics: ${texts.length} texts and ${correct.length} correct flags; allowed: one flag per text`)
  }
  const rs = texts.map((t) => reasoningOf(task, t))
  const tried = texts.map((t, i) => rs[i].tries >= 2 || new RegExp(RETRY.source, 'i').test(t))
  const right = (pick: (i: number) => boolean) => meanOrNaN(correct.flatMap((c, i) => (pick(i) ? [Number(c)] : [])))
  return {
    [`${prefix}reflection/try_rate`]: meanOrNaN(tried.map(Number)),
    [`${prefix}reflection/check_rate`]: meanOrNaN(rs.map((r) => Number(r.checks > 0))),
    [`${prefix}reflection/wait_rate`]: meanOrNaN(rs.map((r) => Number(r.waits > 0))),
    [`${prefix}reasoning/tries_mean`]: meanOrNaN(rs.map((r) => r.tries)),
    [`${prefix}verified_rate`]: meanOrNaN(rs.map((r) => Number(r.verified))),
    [`${prefix}accuracy/verified`]: right((i) => rs[i].verified),
    [`${prefix}accuracy/unverified`]: right((i) => !rs[i].verified),
  }
}
