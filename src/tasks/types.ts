// What every task provides: a seeded problem generator with disjoint train and held-out splits,
// rule-based reward functions (never a learned model), and a generator of pretraining text.
//
// Template (R1-Zero, compact for a character-level model): the prompt states the problem and
// ends where the assistant begins thinking, with "<think>". A well-formed completion is
//   "…reasoning…</think><answer>…</answer>"
// followed by the end token (which is not part of the completion text).

export interface Problem {
  /** the task's id */
  task: string
  /** the split it was drawn from */
  split: 'train' | 'test'
  /** the prompt text, ending in "<think>" */
  prompt: string
  /** the problem's numbers in the task's JSON form (what `grpo-lab score --problem` takes) */
  data: Record<string, unknown>
  /** the reference answer as text (for traces and evaluation) */
  answer: string
}

export interface RewardFunction {
  /** logged as rewards/<name>/mean */
  name: string
  /** default weight in the total reward */
  weight: number
  /** one line for tooltips and the README */
  description: string
  /** completion: the text generated after the prompt, without the end token */
  score(completion: string, problem: Problem): number
}

export class TaskInputError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`)
  }
}

/** What a completion's reasoning did, read back from its text by the task's own format. */
export interface Reasoning {
  /** candidate answers tried and computed */
  tries: number
  /** checks: a try recomputed step by step */
  checks: number
  /** reflection words after a miss ("wait") */
  waits: number
  /** the answer given is the try checked last, with no reflection after the check */
  verified: boolean
}

/** The run config's task options (RunConfig's countdown_* keys); a task ignores those not its own. */
export interface TaskOptions {
  countdown_numbers?: number
  countdown_max_number?: number
  countdown_max_target?: number
}

export interface Task {
  id: string
  title: string
  description: string
  /** every character that prompts, completions and pretraining text may use (the tokenizer's alphabet) */
  alphabet: string
  /** a sensible default for max_completion_length, in characters */
  maxCompletionLength: number
  /** the longest prompt problem() can generate, in characters: with max_completion_length it
   *  must fit the model's context (checked when a config resolves and when a model loads) */
  maxPromptLength: number
  /** problem `index` of `split` for `seed`: deterministic; train and test never share a problem */
  problem(split: 'train' | 'test', seed: number, index: number): Problem
  /** a problem from its JSON form; throws TaskInputError naming the bad field and what is allowed */
  parseProblem(data: unknown): Problem
  /** the correct answer's check alone: true when the completion's answer is right */
  isCorrect(completion: string, problem: Problem): boolean
  rewardFunctions: RewardFunction[]
  /** pretraining document `index` for `seed`: a prompt followed by a completion (no end token) */
  pretrainingText(seed: number, index: number): { prompt: string; completion: string }
  /** cold-start document `index` for `seed`: a train problem worked out the way the task's
   *  reasoning goes, always correct (DeepSeek-R1's "cold start" data); absent = no cold start */
  workedExample?(seed: number, index: number): { prompt: string; completion: string }
  /** what a completion's reasoning did (tries, checks, reflections), for the reflection metrics;
   *  absent = the task's format has no such steps */
  reasoning?(completion: string): Reasoning
  /** the task with these options (its difficulty); absent = the task has none */
  withOptions?(options: TaskOptions): Task
}
