// A run's configuration: one flat object, so that a share link, a JSON file and the command
// line all carry the same keys. GRPO knobs use the names of TRL's GRPOConfig; model and lab
// keys are the lab's own. Every value is checked against its allowed range, and a bad value
// gets a message naming the key and what is allowed.

import { MULTI_OBJECTIVE_AGGREGATIONS, type MultiObjectiveAggregation, SCALE_REWARDS, type ScaleRewards } from '../engine/backend'
import { SHIPPED_MODELS, shippedModel } from '../model/shipped'
import { COUNTDOWN_LIMITS, DEFAULT_COUNTDOWN } from '../tasks/countdown'
import { TASK_IDS, TASKS, taskFor } from '../tasks/registry'
import type { Task } from '../tasks/types'
import { IMPORTANCE_SAMPLING_LEVELS, LOSS_TYPES, type ObjectiveKeys } from './loss'
import { LR_SCHEDULER_TYPES, type LrSchedulerType } from './schedule'

/** The GRPO loss's keys (loss_type, importance_sampling_level, delta, the SAPO and VESPO knobs,
 *  top_entropy_quantile, entropy_coef, use_bias_correction_kl) come from ObjectiveKeys. */
export interface RunConfig extends ObjectiveKeys {
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
  scale_rewards: ScaleRewards
  /** how several reward functions become one advantage: sum then normalize, or GDPO's normalize then sum */
  multi_objective_aggregation: MultiObjectiveAggregation
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
  /** Countdown's difficulty: how many numbers, the largest number, the largest target */
  countdown_numbers: number
  countdown_max_number: number
  countdown_max_target: number
}

/** The default is the headline demo: R1-Zero on the shipped addition base model
 *  (public/models/addition.safetensors; its shape overrides n_layer … block_size). */
export const DEFAULT_RUN_CONFIG: RunConfig = {
  task: 'addition',
  seed: 1,
  base_model: 'addition',
  n_layer: 2, n_head: 4, n_embd: 64, block_size: 128,
  num_generations: 8, prompts_per_step: 8, temperature: 1.0, top_k: 0, max_completion_length: 80,
  loss_type: 'grpo', importance_sampling_level: 'token', scale_rewards: 'group', multi_objective_aggregation: 'sum_then_normalize',
  beta: 0.0, epsilon: 0.2, epsilon_high: 0.2, delta: 0,
  sapo_temperature_pos: 1.0, sapo_temperature_neg: 1.05,
  vespo_k_pos: 2.0, vespo_lambda_pos: 3.0, vespo_k_neg: 3.0, vespo_lambda_neg: 2.0,
  top_entropy_quantile: 1.0, entropy_coef: 0.0, use_bias_correction_kl: true,
  num_iterations: 1, steps_per_generation: 1, gradient_accumulation_steps: 1, mask_truncated_completions: false,
  dynamic_sampling: false, max_resample_rounds: 3, overlong_buffer_length: 0, overlong_penalty_factor: 1.0,
  reward_weights: [],
  learning_rate: 2e-4, lr_scheduler_type: 'linear', weight_decay: 0.0, adam_beta1: 0.9, adam_beta2: 0.99, max_grad_norm: 1.0,
  cold_start_steps: 0, cold_start_learning_rate: 1e-3,
  max_steps: 300, eval_every: 10, eval_problems: 256,
  countdown_numbers: DEFAULT_COUNTDOWN.numbers, countdown_max_number: DEFAULT_COUNTDOWN.maxNumber, countdown_max_target: DEFAULT_COUNTDOWN.maxTarget,
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
  task: { kind: 'enum', values: TASK_IDS, help: 'the task to train on' },
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
  loss_type: { kind: 'enum', values: LOSS_TYPES, help: 'the objective and its aggregation: grpo (per-sequence mean), bnpo (token mean), dr_grpo (÷ max length), dapo (token mean over the accumulated batch), luspo (per-sequence sum), cispo (clipped IS weight × log-prob), sapo (soft sigmoid gate), vespo (gamma-weighted sequence)' },
  importance_sampling_level: { kind: 'enum', values: IMPORTANCE_SAMPLING_LEVELS, help: 'token: a ratio per token (GRPO); sequence: one ratio per completion, exp of the mean log-ratio (GSPO)' },
  multi_objective_aggregation: { kind: 'enum', values: MULTI_OBJECTIVE_AGGREGATIONS, help: 'several reward functions: sum the weighted rewards then normalize, or normalize each per group then sum (GDPO)' },
  scale_rewards: { kind: 'enum', values: SCALE_REWARDS, help: 'divide advantages by the std of the group, the batch, or not at all (Dr. GRPO)' },
  beta: { kind: 'float', min: 0, max: 10, help: 'weight of the KL penalty against the reference model (usual 0–0.1)' },
  epsilon: { kind: 'float', min: 0, max: 1, help: 'lower clip range of the ratio: 1 − ε (usual 0.2)' },
  epsilon_high: { kind: 'float', min: 0, max: 10, help: 'upper clip range: 1 + ε_high (DAPO’s clip-higher uses 0.28); for cispo the cap of the IS weight itself (usual 4–5)' },
  delta: { kind: 'float', min: 0, max: 100, help: 'two-sided clipping: cap the unclipped ratio at δ (use > 1 + ε); 0 = off' },
  sapo_temperature_pos: { kind: 'float', min: 0.01, max: 100, help: 'sapo: temperature of the soft gate for positive advantages' },
  sapo_temperature_neg: { kind: 'float', min: 0.01, max: 100, help: 'sapo: temperature of the soft gate for negative advantages' },
  vespo_k_pos: { kind: 'float', min: 0, max: 100, help: 'vespo: gamma shape k for non-negative advantages' },
  vespo_lambda_pos: { kind: 'float', min: 0, max: 100, help: 'vespo: gamma rate λ for non-negative advantages' },
  vespo_k_neg: { kind: 'float', min: 0, max: 100, help: 'vespo: gamma shape k for negative advantages' },
  vespo_lambda_neg: { kind: 'float', min: 0, max: 100, help: 'vespo: gamma rate λ for negative advantages' },
  top_entropy_quantile: { kind: 'float', min: 0, max: 1, help: 'train only on the top ρ of tokens by entropy (the “forking” tokens; 0.2 in the 80/20 paper); 1 = all' },
  use_bias_correction_kl: { kind: 'bool', help: 'β > 0: multiply each token’s KL by its importance ratio, an unbiased estimate once the policy has moved from the sampler (TRL’s default)' },
  entropy_coef: { kind: 'float', min: 0, max: 10, help: 'entropy bonus: subtract entropy_coef × the mean token entropy from the loss; 0 = off' },
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
  max_steps: { kind: 'int', min: 1, max: 100000, help: 'GRPO steps (one rollout + its updates each) in the run; TRL’s max_steps counts optimizer steps, max_steps × num_iterations × steps_per_generation here, and the TRL export writes it so' },
  eval_every: { kind: 'int', min: 0, max: 100000, help: 'evaluate on held-out problems every this many steps; 0 = never' },
  eval_problems: { kind: 'int', min: 1, max: 10000, help: 'held-out problems per evaluation' },
  countdown_numbers: { kind: 'int', min: COUNTDOWN_LIMITS.numbers[0], max: COUNTDOWN_LIMITS.numbers[1], help: 'Countdown: how many numbers each problem gives (3 or 4; 4 is much harder)' },
  countdown_max_number: { kind: 'int', min: COUNTDOWN_LIMITS.maxNumber[0], max: COUNTDOWN_LIMITS.maxNumber[1], help: 'Countdown: the given numbers are drawn from 1 to this (smaller is easier)' },
  countdown_max_target: { kind: 'int', min: COUNTDOWN_LIMITS.maxTarget[0], max: COUNTDOWN_LIMITS.maxTarget[1], help: 'Countdown: the largest target (smaller is easier; every step stays at most 999)' },
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
  if (!spec) throw new RunConfigError(key.slice(0, 40), `unknown key; allowed keys: ${Object.keys(RUN_CONFIG_SPEC).join(', ')}`)
  const bad = () => new RunConfigError(key, `got ${JSON.stringify(value)?.slice(0, 60)}; allowed: ${describeAllowed(spec)}`)
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) throw bad()
      return value + 0 // -0 is 0: a link writes both as "0"
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < spec.min || value > spec.max) throw bad()
      return value + 0
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
      return value.map((x: number) => x + 0)
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-key rules. A partial configuration (a link, a JSON file, a typed value) is laid over a
// base (the defaults, or the configuration being edited); a rule it breaks is mended by refusing
// one of the keys the partial set — never a key it did not name — until every rule holds.

type Key = keyof RunConfig

interface CrossKeyRule {
  /** the keys whose values decide the rule, the likeliest culprit first */
  keys(c: RunConfig): Key[]
  /** why the values break the rule, naming them; null when they keep it */
  broken(c: RunConfig): string | null
  /** what `key` may be, when the generic search over its values says it badly */
  allowed?(key: Key, c: RunConfig): string | undefined
}

/** The characters of `alphabet` a tokenizer of `chars` lacks ('' when none). */
export function missingChars(alphabet: string, chars: string): string {
  return Array.from(new Set(alphabet)).filter((ch) => !chars.includes(ch)).join('')
}

/** Why the task's longest prompt and max_completion_length overflow a context of `size`, or null.
 *  Checked here when the context is known from the config (fresh weights: block_size; a shipped
 *  base model: its manifest), and by the trainer once any other checkpoint has loaded. */
export function contextOverflow(task: Task, maxCompletionLength: number, size: number, what: string): string | null {
  const need = task.maxPromptLength + maxCompletionLength
  return need <= size ? null : `prompts of task ${task.id} take up to ${task.maxPromptLength} characters, and with ` +
    `max_completion_length = ${maxCompletionLength} a sequence needs ${need} positions: more than ${what} = ${size}`
}

/** The context a run's model will have, when the config alone tells it. */
function knownContext(c: RunConfig): { size: number; what: string } | null {
  if (c.base_model === '') return { size: c.block_size, what: 'block_size (fresh weights)' }
  const shipped = shippedModel(c.base_model)
  return shipped ? { size: shipped.blockSize, what: `the context of base model ${c.base_model}` } : null
}

const CROSS_KEY_RULES: readonly CrossKeyRule[] = [
  {
    keys: () => ['n_head', 'n_embd'],
    broken: (c) => (c.n_embd % c.n_head === 0 ? null : `n_head = ${c.n_head} does not divide n_embd = ${c.n_embd}`),
    allowed: (key, c) => key === 'n_embd' ? `a multiple of n_head = ${c.n_head} from 8 to 512` : undefined,
  },
  {
    keys: () => ['steps_per_generation', 'gradient_accumulation_steps', 'num_generations', 'prompts_per_step'],
    broken(c) {
      const rollout = c.prompts_per_step * c.num_generations
      const parts = c.steps_per_generation * c.gradient_accumulation_steps
      return rollout % parts === 0 ? null : `prompts_per_step × num_generations = ${c.prompts_per_step} × ${c.num_generations} = ${rollout} ` +
        `completions do not split into steps_per_generation × gradient_accumulation_steps = ` +
        `${c.steps_per_generation} × ${c.gradient_accumulation_steps} = ${parts} equal microbatches`
    },
  },
  {
    // a shipped base model's tokenizer must know every character the task writes
    keys: () => ['task', 'base_model'],
    broken(c) {
      const shipped = shippedModel(c.base_model)
      const missing = shipped ? missingChars(TASKS[c.task].alphabet, shipped.chars) : ''
      return missing ? `base model ${c.base_model} has no tokens for ${JSON.stringify(missing)}, which task ${c.task} writes` : null
    },
  },
  {
    keys: (c) => [...(c.base_model === '' ? ['max_completion_length', 'block_size', 'task', 'base_model'] as Key[] : ['max_completion_length', 'task', 'base_model'] as Key[]),
      ...(c.task === 'countdown' ? ['countdown_max_target', 'countdown_max_number', 'countdown_numbers'] as Key[] : [])],
    broken(c) {
      const ctx = knownContext(c)
      return ctx ? contextOverflow(taskFor(c), c.max_completion_length, ctx.size, ctx.what) : null
    },
  },
  {
    keys: () => ['reward_weights', 'task'],
    broken(c) {
      const fns = TASKS[c.task].rewardFunctions
      const n = c.reward_weights.length
      return n === 0 || n === fns.length ? null
        : `task ${c.task} has ${fns.length} reward functions (${fns.map((f) => f.name).join(', ')}), and reward_weights has ${n} weights`
    },
    allowed: (key, c) => key === 'reward_weights'
      ? `empty (the task's own weights) or ${TASKS[c.task].rewardFunctions.length} numbers from -10 to 10, one per reward function in that order`
      : undefined,
  },
  {
    keys: () => ['cold_start_steps', 'task'],
    broken: (c) => c.cold_start_steps === 0 || TASKS[c.task].workedExample ? null
      : `task '${c.task}' has no worked examples for a cold start of cold_start_steps = ${c.cold_start_steps}`,
    allowed: (key) => (key === 'cold_start_steps' ? '0 (no cold start)' : undefined),
  },
]

/** The values a key can take, for the search of what a rule allows; null: too many to try. */
function candidates(key: Key): unknown[] | null {
  if (key === 'base_model') return ['', ...Object.keys(SHIPPED_MODELS)]
  const spec = RUN_CONFIG_SPEC[key]
  switch (spec.kind) {
    case 'int': return spec.max - spec.min > 1000 ? null : Array.from({ length: spec.max - spec.min + 1 }, (_, i) => spec.min + i)
    case 'enum': return [...spec.values]
    case 'bool': return [false, true]
    default: return null
  }
}

const show = (v: unknown) => (v === '' ? "'' (fresh weights)" : Array.isArray(v) ? `[${v.join(',')}]` : String(v))

/** A list of allowed values, integer runs shortened: "1, 2, 4, 8" or "an integer from 1 to 80". */
function describeValues(values: unknown[]): string {
  if (!values.every((v) => typeof v === 'number')) return values.map(show).join(', ')
  const runs: [number, number][] = []
  for (const x of values as number[]) {
    const last = runs.at(-1)
    if (last && x === last[1] + 1) last[1] = x
    else runs.push([x, x])
  }
  if (runs.length === 1 && runs[0][0] !== runs[0][1]) return `an integer from ${runs[0][0]} to ${runs[0][1]}`
  const parts = runs.flatMap(([a, b]) => (b - a < 3 ? Array.from({ length: b - a + 1 }, (_, i) => `${a + i}`) : [`${a} to ${b}`]))
  return parts.length > 12 ? `${parts.slice(0, 12).join(', ')}, …` : parts.join(', ')
}

function allowedFor(rule: CrossKeyRule, key: Key, c: RunConfig): string {
  const special = rule.allowed?.(key, c)
  if (special) return special
  const values = candidates(key)
  if (!values) return describeAllowed(RUN_CONFIG_SPEC[key])
  const probe: Record<string, unknown> = { ...c }
  const ok = values.filter((v) => { probe[key] = v; return rule.broken(probe as unknown as RunConfig) === null })
  const others = rule.keys(c).filter((k) => k !== key).map((k) => `${k} = ${show(c[k])}`).join(', ')
  if (ok.length === 0) return `no value of ${key} while ${others}`
  return describeValues(ok) + (key === 'base_model' ? ', or a checkpoint path or URL (checked when it loads)' : '')
}

export interface ConfigProblem { key: string; message: string }

export interface ResolvedConfig {
  config: RunConfig
  /** the keys of the partial that were kept */
  kept: Partial<RunConfig>
  /** each refused key with why and what is allowed, in the order they were refused */
  problems: ConfigProblem[]
}

/** The defaults for the keys a configuration leaves out, given the ones it sets: as in TRL,
 *  epsilon_high defaults to epsilon (so a link or file that sets epsilon moves both). */
export function defaultsGiven(set: Partial<RunConfig>): RunConfig {
  return set.epsilon === undefined || set.epsilon === DEFAULT_RUN_CONFIG.epsilon ? DEFAULT_RUN_CONFIG : { ...DEFAULT_RUN_CONFIG, epsilon_high: set.epsilon }
}

/** The base with `kept` on top; over the defaults, the defaults `kept` implies. */
function compose(kept: Partial<RunConfig>, base: RunConfig): RunConfig {
  return { ...(base === DEFAULT_RUN_CONFIG ? defaultsGiven(kept) : base), ...kept }
}

/**
 * `partial` over `base` (the defaults unless given): each key checked alone, then the cross-key
 * rules, in order. A broken rule refuses one of its keys that `partial` set: the first (in the
 * rule's order) whose refusal alone mends it, else the first set; then the rules run again.
 * Never throws on bad input: whatever is refused is in `problems`, and `config` is valid.
 */
export function resolvePartial(partial: Record<string, unknown>, base: RunConfig = DEFAULT_RUN_CONFIG): ResolvedConfig {
  // a base that itself breaks a rule (a run saved by an older version) is resolved as a partial
  if (base !== DEFAULT_RUN_CONFIG && CROSS_KEY_RULES.some((r) => r.broken(base) !== null)) return resolvePartial({ ...base, ...partial })
  const kept: Record<string, unknown> = {}
  const problems: ConfigProblem[] = []
  for (const [k, v] of Object.entries(partial)) {
    try { kept[k] = checkValue(k, v) } catch (e) {
      if (!(e instanceof RunConfigError)) throw e
      problems.push({ key: e.key, message: e.message })
    }
  }
  for (;;) {
    const config = compose(kept, base)
    const rule = CROSS_KEY_RULES.find((r) => r.broken(config) !== null)
    if (!rule) return { config, kept: kept as Partial<RunConfig>, problems }
    const set = rule.keys(config).filter((k) => Object.hasOwn(kept, k))
    // the base keeps every rule (see above; the defaults do), so a broken rule has a set key
    if (set.length === 0) throw new Error(`the base configuration breaks a rule: ${rule.broken(config)}`)
    const without = (k: Key) => { const rest = { ...kept }; delete rest[k]; return compose(rest, base) }
    const key = set.find((k) => rule.broken(without(k)) === null) ?? set[0]
    problems.push({ key, message: `${key}: ${rule.broken(config)}; allowed: ${allowedFor(rule, key, config)}` })
    delete kept[key]
  }
}

/** Defaults overlaid with `partial`, every key checked, then the cross-key rules; throws a
 *  RunConfigError naming the first key resolvePartial would refuse. */
export function resolveRunConfig(partial: Record<string, unknown>): RunConfig {
  const r = resolvePartial(partial)
  if (r.problems.length) {
    const { key, message } = r.problems[0]
    throw new RunConfigError(key, message.slice(key.length + 2))
  }
  return r.config
}
