// A run's configuration: one flat object, so that a share link, a JSON file and the command
// line all carry the same keys. GRPO knobs use the names of TRL's GRPOConfig; model and lab
// keys are the lab's own. Every value is checked against its allowed range, and a bad value
// gets a message naming the key and what is allowed.

import { SCALE_REWARDS, type ScaleRewards } from '../engine/backend'
import { LOSS_TYPES, type LossType } from './loss'
import { LR_SCHEDULER_TYPES, type LrSchedulerType } from './schedule'

export interface RunConfig {
  // what to learn
  task: string
  seed: number
  /** a base checkpoint to start from (a path in Node, a URL in the page); '' = fresh weights */
  base_model: string
  // the model, when starting fresh
  n_layer: number
  n_head: number
  n_embd: number
  block_size: number
  // rollout
  num_generations: number
  /** prompts per rollout; the rollout has prompts_per_step × num_generations completions */
  prompts_per_step: number
  temperature: number
  top_k: number
  max_completion_length: number
  // GRPO loss
  loss_type: LossType
  scale_rewards: ScaleRewards
  beta: number
  epsilon: number
  epsilon_high: number
  num_iterations: number
  steps_per_generation: number
  gradient_accumulation_steps: number
  mask_truncated_completions: boolean
  // DAPO
  dynamic_sampling: boolean
  max_resample_rounds: number
  overlong_buffer_length: number
  overlong_penalty_factor: number
  /** weights of the task's reward functions, in their order; empty = the task's defaults */
  reward_weights: number[]
  // optimizer
  learning_rate: number
  /** how the learning rate moves over the run's optimizer steps (Hugging Face's scheduler names) */
  lr_scheduler_type: LrSchedulerType
  weight_decay: number
  adam_beta1: number
  adam_beta2: number
  max_grad_norm: number
  // cold start (DeepSeek-R1): supervised steps on worked examples before the first GRPO step
  cold_start_steps: number
  cold_start_learning_rate: number
  // length of the run, and evaluation
  max_steps: number
  eval_every: number
  eval_problems: number
}

/** The default is the headline demo: R1-Zero on the shipped addition base model
 *  (public/models/addition.safetensors; its shape overrides n_layer … block_size). */
export const DEFAULT_RUN_CONFIG: RunConfig = {
  task: 'addition',
  seed: 1,
  base_model: 'addition',
  n_layer: 2, n_head: 4, n_embd: 64, block_size: 128,
  num_generations: 8, prompts_per_step: 8, temperature: 1.0, top_k: 0, max_completion_length: 80,
  loss_type: 'grpo', scale_rewards: 'group', beta: 0.0, epsilon: 0.2, epsilon_high: 0.2,
  num_iterations: 1, steps_per_generation: 1, gradient_accumulation_steps: 1, mask_truncated_completions: false,
  dynamic_sampling: false, max_resample_rounds: 3, overlong_buffer_length: 0, overlong_penalty_factor: 1.0,
  reward_weights: [],
  learning_rate: 2e-4, lr_scheduler_type: 'linear', weight_decay: 0.0, adam_beta1: 0.9, adam_beta2: 0.99, max_grad_norm: 1.0,
  cold_start_steps: 0, cold_start_learning_rate: 1e-3,
  max_steps: 300, eval_every: 10, eval_problems: 256,
}

type Spec =
  | { kind: 'int'; min: number; max: number; help: string }
  | { kind: 'float'; min: number; max: number; help: string }
  | { kind: 'bool'; help: string }
  | { kind: 'enum'; values: readonly string[]; help: string }
  | { kind: 'string'; pattern: RegExp; help: string; allowed: string }
  | { kind: 'floats'; min: number; max: number; maxLength: number; help: string }

/** Each key's type, range and one-line meaning (the page's tooltips read these too). */
export const RUN_CONFIG_SPEC: Record<keyof RunConfig, Spec> = {
  task: { kind: 'string', pattern: /^[a-z][a-z0-9-]{0,31}$/, allowed: 'a task id such as addition or countdown', help: 'the task to train on' },
  seed: { kind: 'int', min: 0, max: 2 ** 31 - 1, help: 'seeds weights, problems and sampling: same seed, same run' },
  base_model: { kind: 'string', pattern: /^[\w./:-]{0,200}$/, allowed: 'a checkpoint path or URL of letters, digits and ./:-_, or empty', help: 'checkpoint to start from; empty = fresh weights' },
  n_layer: { kind: 'int', min: 1, max: 8, help: 'transformer blocks (fresh models)' },
  n_head: { kind: 'int', min: 1, max: 16, help: 'attention heads; must divide n_embd' },
  n_embd: { kind: 'int', min: 8, max: 512, help: 'width of the residual stream' },
  block_size: { kind: 'int', min: 16, max: 512, help: 'context length in characters' },
  num_generations: { kind: 'int', min: 2, max: 64, help: 'G: completions per prompt, the group the advantage is relative to (usual 4–16)' },
  prompts_per_step: { kind: 'int', min: 1, max: 64, help: 'prompts per rollout (usual 4–16)' },
  temperature: { kind: 'float', min: 0, max: 3, help: 'sampling temperature of the rollout (usual 0.7–1.2)' },
  top_k: { kind: 'int', min: 0, max: 1000, help: 'sample among the k likeliest tokens; 0 = all' },
  max_completion_length: { kind: 'int', min: 1, max: 512, help: 'tokens a completion may have before it is cut (truncated)' },
  loss_type: { kind: 'enum', values: LOSS_TYPES, help: 'aggregation: grpo (per-sequence mean), bnpo (token mean), dr_grpo (÷ max length), dapo (token mean over the accumulated batch)' },
  scale_rewards: { kind: 'enum', values: SCALE_REWARDS, help: 'divide advantages by the std of the group, the batch, or not at all (Dr. GRPO)' },
  beta: { kind: 'float', min: 0, max: 10, help: 'weight of the KL penalty against the reference model (usual 0–0.1)' },
  epsilon: { kind: 'float', min: 0, max: 1, help: 'lower clip range of the ratio: 1 − ε (usual 0.2)' },
  epsilon_high: { kind: 'float', min: 0, max: 10, help: 'upper clip range: 1 + ε_high (DAPO’s clip-higher uses 0.28)' },
  num_iterations: { kind: 'int', min: 1, max: 16, help: 'μ: optimisation passes over each rollout (usual 1–4)' },
  steps_per_generation: { kind: 'int', min: 1, max: 64, help: 'optimizer steps (minibatches) per pass over a rollout' },
  gradient_accumulation_steps: { kind: 'int', min: 1, max: 64, help: 'microbatches accumulated into one optimizer step' },
  mask_truncated_completions: { kind: 'bool', help: 'leave truncated completions out of the loss (DAPO)' },
  dynamic_sampling: { kind: 'bool', help: 'DAPO: drop groups whose rewards are all equal and sample more prompts' },
  max_resample_rounds: { kind: 'int', min: 1, max: 16, help: 'dynamic sampling: most extra rollouts per step' },
  overlong_buffer_length: { kind: 'int', min: 0, max: 512, help: 'DAPO soft overlong punishment: length of the penalty ramp; 0 = off' },
  overlong_penalty_factor: { kind: 'float', min: 0, max: 10, help: 'DAPO soft overlong punishment: its largest penalty' },
  reward_weights: { kind: 'floats', min: -10, max: 10, maxLength: 8, help: 'weights of the reward functions, in the task’s order; empty = defaults' },
  learning_rate: { kind: 'float', min: 1e-7, max: 1, help: 'AdamW learning rate (tiny models: 1e-4–3e-3)' },
  lr_scheduler_type: { kind: 'enum', values: LR_SCHEDULER_TYPES, help: 'learning rate over the run: linear decay to 0 (TRL’s default), cosine decay to 0, or constant' },
  weight_decay: { kind: 'float', min: 0, max: 1, help: 'AdamW decoupled weight decay on matrices' },
  adam_beta1: { kind: 'float', min: 0, max: 0.9999, help: 'AdamW β1' },
  adam_beta2: { kind: 'float', min: 0, max: 0.99999, help: 'AdamW β2' },
  max_grad_norm: { kind: 'float', min: 0, max: 1000, help: 'clip the global gradient norm; 0 = no clipping' },
  cold_start_steps: { kind: 'int', min: 0, max: 10000, help: 'cold start: supervised steps on worked examples (prompts_per_step × num_generations each) before RL, as DeepSeek-R1; 0 = none (R1-Zero)' },
  cold_start_learning_rate: { kind: 'float', min: 1e-7, max: 1, help: 'learning rate of the cold start’s supervised steps (constant)' },
  max_steps: { kind: 'int', min: 1, max: 100000, help: 'GRPO steps (rollout + update) in the run' },
  eval_every: { kind: 'int', min: 0, max: 100000, help: 'evaluate on held-out problems every this many steps; 0 = never' },
  eval_problems: { kind: 'int', min: 1, max: 10000, help: 'held-out problems per evaluation' },
}

export class RunConfigError extends Error {
  constructor(readonly key: string, message: string) { super(`${key}: ${message}`) }
}

export function describeAllowed(spec: Spec): string {
  switch (spec.kind) {
    case 'int': return `an integer from ${spec.min} to ${spec.max}`
    case 'float': return `a number from ${spec.min} to ${spec.max}`
    case 'bool': return 'true or false'
    case 'enum': return spec.values.join(', ')
    case 'string': return spec.allowed
    case 'floats': return `up to ${spec.maxLength} numbers from ${spec.min} to ${spec.max}`
  }
}

/** Check one value of a key (already in its JSON type). */
export function checkValue(key: string, value: unknown): unknown {
  // own keys only: "constructor" or "__proto__" must not find Object's members
  const spec = Object.hasOwn(RUN_CONFIG_SPEC, key) ? (RUN_CONFIG_SPEC as Record<string, Spec>)[key] : undefined
  if (!spec) throw new RunConfigError(key, `unknown key; allowed keys: ${Object.keys(RUN_CONFIG_SPEC).join(', ')}`)
  const bad = () => new RunConfigError(key, `got ${JSON.stringify(value)?.slice(0, 60)}; allowed: ${describeAllowed(spec)}`)
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) throw bad()
      return value
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) throw bad()
      return value
    case 'bool':
      if (typeof value !== 'boolean') throw bad()
      return value
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) throw bad()
      return value
    case 'string':
      if (typeof value !== 'string' || !spec.pattern.test(value)) throw bad()
      return value
    case 'floats':
      if (!Array.isArray(value) || value.length > spec.maxLength ||
        value.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x < spec.min || x > spec.max)) throw bad()
      return value
  }
}

/** Defaults overlaid with `partial`, every key checked, then the cross-key rules. */
export function resolveRunConfig(partial: Record<string, unknown>): RunConfig {
  const c: Record<string, unknown> = { ...DEFAULT_RUN_CONFIG }
  for (const [k, v] of Object.entries(partial)) c[k] = checkValue(k, v)
  // TRL: epsilon_high defaults to epsilon
  if (partial.epsilon !== undefined && partial.epsilon_high === undefined) c.epsilon_high = c.epsilon
  const r = c as unknown as RunConfig
  if (r.n_embd % r.n_head !== 0) throw new RunConfigError('n_head', `${r.n_head} does not divide n_embd = ${r.n_embd}; allowed: a divisor of n_embd`)
  const rollout = r.prompts_per_step * r.num_generations
  const parts = r.steps_per_generation * r.gradient_accumulation_steps
  if (rollout % parts !== 0) {
    throw new RunConfigError('steps_per_generation', `prompts_per_step × num_generations = ${rollout} completions do not split into ` +
      `steps_per_generation × gradient_accumulation_steps = ${parts} equal microbatches; allowed: a product that divides ${rollout}`)
  }
  return r
}
