// A run as a TRL project (`grpo-lab export --format trl`, "Export to TRL" in the page): the same
// experiment for TRL's GRPOTrainer, to run as is on one CPU, one GPU or many —
//   model/             the run's base (or current) model as a Hugging Face folder (src/export/hf.ts)
//   data/train.jsonl   the train split's prompts in the order the lab draws them for the seed, with
//                      the columns the rewards read (answer, and the problem's numbers)
//   data/eval.jsonl    the held-out problems the lab's evaluation scores (eval_problems of the test split)
//   rewards.py         the task's reward functions in Python, TRL's signature (src/export/trlRewards.ts)
//   train.py           GRPOConfig with every mapped value written out, GRPOTrainer, the lab's evaluation
//   README.md, requirements.txt, lab_config.json
// This module is the one place that says how the lab's keys become TRL 1.13's: the rows below make
// train.py's GRPOConfig (src/export/trlTrain.ts), the notes printed on export, and the README's
// table (scripts/trl-readme.ts); python/tests/test_trl_project.py checks that the table names every
// field GRPOConfig declares. src/export/trlProject.ts puts the project together.
import { RUN_CONFIG_SPEC, type RunConfig } from '../rl/config'
import { rewardWeights } from '../rl/rewards'
import { taskFor } from '../tasks/registry'

type Key = keyof RunConfig

/** The lab's batch arithmetic in TRL's units. */
export interface TrlBatch {
  /** completions per rollout: prompts_per_step × num_generations (TRL's generation batch on one process) */
  rollout: number
  /** TRL's per_device_train_batch_size: a microbatch, rollout / (steps_per_generation × gradient_accumulation_steps) */
  perDevice: number
  /** TRL's steps_per_generation: microbatches per generation, the lab's steps_per_generation × gradient_accumulation_steps */
  microbatches: number
  /** optimizer steps per rollout: num_iterations × the lab's steps_per_generation */
  optimizerStepsPerRollout: number
  /** TRL's max_steps (optimizer steps): the lab's max_steps (rollouts) × optimizerStepsPerRollout */
  maxSteps: number
  /** TRL's eval_steps: eval_every rollouts in optimizer steps; 0 = no evaluation during the run */
  evalSteps: number
}

export function trlBatch(c: RunConfig): TrlBatch {
  const rollout = c.prompts_per_step * c.num_generations
  const microbatches = c.steps_per_generation * c.gradient_accumulation_steps
  const optimizerStepsPerRollout = c.num_iterations * c.steps_per_generation
  return {
    rollout, perDevice: rollout / microbatches, microbatches, optimizerStepsPerRollout,
    maxSteps: c.max_steps * optimizerStepsPerRollout, evalSteps: c.eval_every * optimizerStepsPerRollout,
  }
}

// ---------------------------------------------------------------------------------------------
// Python literals

/** A number as Python writes a float: always with a point or an exponent. */
export function pyFloat(x: number): string {
  const s = String(x)
  return /[.e]/.test(s) || !Number.isFinite(x) ? s : `${s}.0`
}
const pyBool = (b: boolean) => (b ? 'True' : 'False')
const pyStr = (s: string) => JSON.stringify(s)

// ---------------------------------------------------------------------------------------------
// The mapping, one row per field of GRPOConfig (TRL 1.13, its own dataclass fields in its order),
// then the TrainingArguments fields train.py sets.

/** Where a written field sits in train.py's GRPOConfig(...). */
export type TrlGroup = 'run' | 'sampling' | 'loss' | 'optimizer' | 'numerics'

export interface TrlField {
  field: string
  /** a field GRPOConfig declares itself, or one it inherits */
  from: 'GRPOConfig' | 'TrainingArguments'
  /** the lab's keys its value comes from; [] when it is fixed to what the lab does */
  keys: Key[]
  /** the Python expression train.py writes (`args.…` for a command-line override); absent: not written */
  value?: (c: RunConfig, b: TrlBatch) => string
  /** the value of a field fixed to what the lab does, whatever the run */
  fixedValue?: string
  group?: TrlGroup
  /** how the value follows from the lab, or why the field does not apply */
  how: string
  /** a sentence for the export's notes when the value is not the lab's number as it is */
  translated?: (c: RunConfig, b: TrlBatch) => string | null
}

/** A field that is the lab key of the same name, written as is. */
function same(field: Key, group: TrlGroup, write: (v: never) => string, how = 'the same'): TrlField {
  return { field, from: 'GRPOConfig', keys: [field], value: (c) => write(c[field] as never), group, how }
}
const num = (v: number) => pyFloat(v)
const int = (v: number) => String(v)
const str = (v: string) => pyStr(v)
const bool = (v: boolean) => pyBool(v)
const fixed = (field: string, group: TrlGroup, value: string, how: string, from: TrlField['from'] = 'GRPOConfig'): TrlField =>
  ({ field, from, keys: [], value: () => value, fixedValue: value, group, how })
const na = (field: string, why: string): TrlField => ({ field, from: 'GRPOConfig', keys: [], how: `not applicable: ${why}` })

const VLLM_SERVER = 'a vLLM knob; the lab samples in the page with no inference server (with `--use_vllm`, TRL\'s default applies)'
const ADAPTIVE = 'only with use_adaptive_entropy; the lab\'s entropy bonus is static (entropy_coef)'
const LOGGING = 'logging of sample completions; the lab\'s trace viewer shows them, TRL prints metrics'

export const TRL_FIELDS: readonly TrlField[] = [
  na('model_init_kwargs', 'train.py loads model/ itself (float32, as the lab) and hands the model to GRPOTrainer'),
  na('trust_remote_code', 'the model is transformers\' own GPT-2; there is no remote code'),
  na('router_aux_loss_coef', 'Mixture-of-Experts models only; the lab\'s GPT is dense'),
  fixed('disable_dropout', 'numerics', 'True', 'the lab\'s GPT has no dropout (the folder\'s `*_pdrop` are 0 too)'),
  na('cast_lm_head_to_fp32', 'the whole model is float32 already (bf16 = False)'),
  same('num_generations', 'run', int, 'G, completions per prompt'),
  na('num_generations_eval', 'the held-out evaluation is the lab\'s greedy pass@1, one completion per problem (train.py\'s `LabGRPOTrainer.evaluate`)'),
  same('max_completion_length', 'sampling', int, 'the same; prompts + max_completion_length fit the model\'s n_positions (checked on export)'),
  na('ds3_gather_for_generation', 'DeepSpeed ZeRO-3 only; a model this small needs no sharding'),
  fixed('shuffle_dataset', 'run', 'False', 'the lab takes the train split\'s problems in order (0, 1, 2, … for the seed); data/train.jsonl is that order'),
  na('pad_to_multiple_of', 'padding changes speed only; the lab pads nothing'),
  {
    field: 'generation_batch_size', from: 'GRPOConfig', keys: ['prompts_per_step', 'num_generations'],
    how: 'not written: TRL takes it or steps_per_generation, not both; it derives per_device_train_batch_size × processes × steps_per_generation = prompts_per_step × num_generations on one process',
  },
  {
    field: 'steps_per_generation', from: 'GRPOConfig', keys: ['steps_per_generation', 'gradient_accumulation_steps'],
    value: (_, b) => int(b.microbatches), group: 'run',
    how: 'TRL counts microbatches per generation; the lab\'s steps_per_generation counts optimizer steps per pass over a rollout: TRL\'s = the lab\'s × gradient_accumulation_steps',
    translated: (c, b) => `steps_per_generation: the lab's ${c.steps_per_generation} optimizer steps per pass over a rollout of ${b.rollout} ` +
      `= TRL steps_per_generation ${b.microbatches} microbatches of per_device_train_batch_size ${b.perDevice} (× gradient_accumulation_steps ${c.gradient_accumulation_steps})`,
  },
  same('temperature', 'sampling', num, 'the same (0 is refused: TRL samples, and divides the training logits by it)'),
  fixed('top_p', 'sampling', '1.0', 'the lab samples from the whole distribution (or its top_k)'),
  same('top_k', 'sampling', int, 'the same; 0 = all tokens in both'),
  fixed('min_p', 'sampling', 'None', 'the lab has no min-p filter'),
  na('generation_kwargs', 'nothing beyond the fields here: the lab\'s sampler has temperature and top_k only'),
  na('chat_template_kwargs', 'prompts are plain text (the R1-Zero template is in the prompt); no chat template'),
  fixed('repetition_penalty', 'sampling', '1.0', 'the lab has no repetition penalty'),
  na('cache_implementation', 'the KV cache\'s kind changes speed only'),
  {
    field: 'use_vllm', from: 'GRPOConfig', keys: [], value: () => 'args.use_vllm', group: 'sampling',
    how: 'False unless `python train.py --use_vllm` (vLLM generation, not in requirements.txt); the lab samples in the page',
  },
  {
    field: 'vllm_mode', from: 'GRPOConfig', keys: [], value: () => 'args.vllm_mode', group: 'sampling',
    how: 'with --use_vllm: colocate (default) or server (`--vllm_mode server` with `trl vllm-serve --model model` running)',
  },
  na('vllm_model_impl', VLLM_SERVER),
  na('vllm_enable_sleep_mode', VLLM_SERVER),
  na('vllm_structured_outputs_regex', 'the lab constrains no output'),
  na('vllm_server_base_url', VLLM_SERVER),
  na('vllm_server_host', VLLM_SERVER),
  na('vllm_server_port', VLLM_SERVER),
  na('vllm_server_timeout', VLLM_SERVER),
  na('vllm_group_port', VLLM_SERVER),
  na('vllm_gpu_memory_utilization', VLLM_SERVER),
  na('vllm_max_model_length', 'vLLM reads it from the model\'s n_positions, which holds prompt + max_completion_length'),
  na('vllm_tensor_parallel_size', VLLM_SERVER),
  same('beta', 'loss', num, 'weight of the k3 KL penalty against the starting policy'),
  same('num_iterations', 'loss', int, 'μ, passes over each rollout'),
  same('epsilon', 'loss', num),
  {
    field: 'delta', from: 'GRPOConfig', keys: ['delta'], value: (c) => (c.delta === 0 ? 'None' : num(c.delta)), group: 'loss',
    how: 'the lab\'s 0 (off) is TRL\'s None',
    translated: (c) => (c.delta === 0 ? 'delta: the lab\'s 0 (two-sided clipping off) = TRL None' : null),
  },
  same('epsilon_high', 'loss', num, 'written out (TRL\'s None would mean epsilon)'),
  same('sapo_temperature_neg', 'loss', num),
  same('sapo_temperature_pos', 'loss', num),
  same('vespo_k_pos', 'loss', num),
  same('vespo_lambda_pos', 'loss', num),
  same('vespo_k_neg', 'loss', num),
  same('vespo_lambda_neg', 'loss', num),
  same('importance_sampling_level', 'loss', str),
  {
    field: 'reward_weights', from: 'GRPOConfig', keys: ['reward_weights', 'task', 'overlong_buffer_length', 'overlong_penalty_factor'],
    value: (c) => `[${trlRewardWeights(c).map(num).join(', ')}]`, group: 'loss',
    how: 'one weight per function of rewards.py in the task\'s order (the task\'s defaults when the lab\'s list is empty), then overlong_penalty_factor for the soft overlong punishment when it is on',
    translated: (c) => (c.reward_weights.length === 0 ? `reward_weights: the task's defaults [${trlRewardWeights(c).join(', ')}]` : null),
  },
  same('multi_objective_aggregation', 'loss', str),
  same('scale_rewards', 'loss', str),
  same('loss_type', 'loss', str, 'the same (TRL\'s default is dapo, the lab\'s grpo: written out)'),
  same('mask_truncated_completions', 'loss', bool),
  fixed('sync_ref_model', 'loss', 'False', 'the lab\'s reference stays the starting policy'),
  na('ref_model_mixup_alpha', 'only with sync_ref_model'),
  na('ref_model_sync_steps', 'only with sync_ref_model'),
  same('top_entropy_quantile', 'loss', num),
  same('entropy_coef', 'loss', num, 'the same static bonus: loss − entropy_coef × mean token entropy'),
  fixed('use_adaptive_entropy', 'loss', 'False', 'the lab\'s entropy bonus is static'),
  na('entropy_coef_min', ADAPTIVE),
  na('entropy_coef_max', ADAPTIVE),
  na('entropy_coef_delta', ADAPTIVE),
  na('entropy_target', ADAPTIVE),
  na('max_tool_calling_iterations', 'no tools: the lab\'s tasks are single-turn'),
  na('vllm_importance_sampling_correction', 'vLLM only: it corrects for vLLM\'s own sampling log-probs; the lab samples and trains on one engine'),
  na('vllm_importance_sampling_mode', 'vLLM only (see vllm_importance_sampling_correction)'),
  na('vllm_importance_sampling_clip_max', 'vLLM only (see vllm_importance_sampling_correction)'),
  na('vllm_importance_sampling_clip_min', 'vLLM only (see vllm_importance_sampling_correction)'),
  fixed('off_policy_mask_threshold', 'loss', 'None', 'the lab masks no sequences for being off-policy'),
  same('use_bias_correction_kl', 'loss', bool, 'the same: the KL term times the importance ratio (TRL 1.13\'s default, and the lab\'s)'),
  na('log_completions', LOGGING),
  na('log_multimodal', 'no images'),
  na('num_completions_to_print', LOGGING),
  na('log_unique_prompts', LOGGING),
  na('log_completions_hub_repo', 'nothing goes to the Hub'),
  na('use_transformers_continuous_batching', 'a faster generation engine; changes speed only'),
  na('transformers_continuous_batching_config', 'only with use_transformers_continuous_batching'),
  na('use_transformers_paged', 'deprecated in TRL (use_transformers_continuous_batching)'),
  na('vllm_importance_sampling_cap', 'deprecated in TRL (vllm_importance_sampling_clip_max)'),
  // ---- inherited from TrainingArguments ----
  { field: 'output_dir', from: 'TrainingArguments', keys: [], value: () => 'args.output_dir', group: 'run', how: '`--output_dir` (default output/ beside train.py); the trained model is saved there' },
  {
    field: 'max_steps', from: 'TrainingArguments', keys: ['max_steps', 'num_iterations', 'steps_per_generation'], value: () => 'args.max_steps', group: 'run',
    how: 'the lab counts GRPO steps (rollouts), TRL optimizer steps: TRL\'s = max_steps × num_iterations × steps_per_generation (`--max_steps` overrides, in TRL\'s unit)',
    translated: (c, b) => `max_steps: the lab's ${c.max_steps} GRPO steps (rollouts) = TRL max_steps ${b.maxSteps} optimizer steps ` +
      `(× num_iterations ${c.num_iterations} × steps_per_generation ${c.steps_per_generation})`,
  },
  {
    field: 'per_device_train_batch_size', from: 'TrainingArguments', keys: ['prompts_per_step', 'num_generations', 'steps_per_generation', 'gradient_accumulation_steps'],
    value: () => 'args.per_device_train_batch_size', group: 'run',
    how: 'a microbatch: prompts_per_step × num_generations / (steps_per_generation × gradient_accumulation_steps); on N processes each takes one (`--per_device_train_batch_size` overrides)',
  },
  { ...same('gradient_accumulation_steps', 'run', int), from: 'TrainingArguments' },
  {
    field: 'eval_strategy', from: 'TrainingArguments', keys: ['eval_every'], value: (c) => str(c.eval_every > 0 ? 'steps' : 'no'), group: 'run',
    how: '"steps" when the lab evaluates during the run, else "no" (train.py then evaluates once at the end)',
  },
  {
    field: 'eval_steps', from: 'TrainingArguments', keys: ['eval_every', 'num_iterations', 'steps_per_generation'],
    value: (c, b) => (c.eval_every > 0 ? int(b.evalSteps) : 'None'), group: 'run',
    how: 'eval_every GRPO steps in optimizer steps (× num_iterations × steps_per_generation); Trainer also evaluates after the last step, as the lab does',
    translated: (c, b) => (c.eval_every > 0 ? `eval_every: the lab's ${c.eval_every} GRPO steps = TRL eval_steps ${b.evalSteps} optimizer steps` : null),
  },
  {
    field: 'per_device_eval_batch_size', from: 'TrainingArguments', keys: ['num_generations'], value: (c) => int(c.num_generations), group: 'run',
    how: 'num_generations: unused by the lab\'s greedy evaluation, but TRL wants it divisible by num_generations',
  },
  { ...same('learning_rate', 'optimizer', num), from: 'TrainingArguments' },
  { ...same('lr_scheduler_type', 'optimizer', str, 'the same: Hugging Face\'s schedules over the run\'s optimizer steps'), from: 'TrainingArguments' },
  fixed('warmup_steps', 'optimizer', '0', 'the lab\'s schedules have no warmup', 'TrainingArguments'),
  fixed('optim', 'optimizer', '"adamw_torch"', 'AdamW, decoupled weight decay on the matrices (Hugging Face leaves out biases and LayerNorm, as the lab)', 'TrainingArguments'),
  { ...same('weight_decay', 'optimizer', num), from: 'TrainingArguments' },
  { ...same('adam_beta1', 'optimizer', num), from: 'TrainingArguments' },
  { ...same('adam_beta2', 'optimizer', num), from: 'TrainingArguments' },
  fixed('adam_epsilon', 'optimizer', '1e-8', 'the lab\'s AdamW ε', 'TrainingArguments'),
  { ...same('max_grad_norm', 'optimizer', num, 'the same; 0 = no clipping in both'), from: 'TrainingArguments' },
  { ...same('seed', 'optimizer', int, 'the same (TRL\'s sampling draws from torch\'s generator; the prompts are already those of the lab\'s seed)'), from: 'TrainingArguments' },
  fixed('bf16', 'numerics', 'False', 'the lab trains in float32 (GRPOConfig\'s default is bf16)', 'TrainingArguments'),
  fixed('fp16', 'numerics', 'False', 'float32', 'TrainingArguments'),
  fixed('gradient_checkpointing', 'numerics', 'False', 'nothing to save at this size (GRPOConfig\'s default is True)', 'TrainingArguments'),
  fixed('remove_unused_columns', 'numerics', 'False', 'the reward functions read the dataset\'s columns (answer, numbers, target, …)', 'TrainingArguments'),
  fixed('logging_steps', 'numerics', '1', 'the lab logs every step (TRL: every optimizer step)', 'TrainingArguments'),
  fixed('report_to', 'numerics', '"none"', 'metrics are printed and written to output_dir/log_history.jsonl; name "wandb", "trackio", … to send them there', 'TrainingArguments'),
  fixed('save_strategy', 'numerics', '"no"', 'train.py saves the final model to output_dir', 'TrainingArguments'),
]

/** What each lab key without a field of its own in GRPOConfig or TrainingArguments becomes (the
 *  export prints these with the run's values, and train.py has them as comments). */
export const LAB_ONLY: Partial<Record<Key, string>> = {
  task: 'the task is data/*.jsonl (its prompts and answers) and rewards.py (its reward functions)',
  countdown_numbers: 'Countdown\'s difficulty: data/*.jsonl holds problems drawn with it',
  countdown_max_number: 'Countdown\'s difficulty: data/*.jsonl holds problems drawn with it',
  countdown_max_target: 'Countdown\'s difficulty: data/*.jsonl holds problems drawn with it',
  base_model: 'the model is model/, the base model (or the run\'s current one) as a Hugging Face folder',
  n_layer: 'model shape, used by fresh weights only (a base model has its own, as in the lab): model/config.json has the model\'s n_layer; GRPOTrainer trains the model it is given',
  n_head: 'model shape, fresh weights only: model/config.json has the model\'s n_head',
  n_embd: 'model shape, fresh weights only: model/config.json has the model\'s n_embd',
  block_size: 'model shape, fresh weights only: model/config.json has the model\'s n_positions, which prompts + max_completion_length fit',
  dynamic_sampling: 'DAPO dynamic sampling has no GRPOConfig field: TRL keeps groups whose rewards are all equal (their advantages are 0; ' +
    'frac_reward_zero_std counts them). To drop and refill them, override GRPOTrainer._generate_and_score_completions; or raise num_generations',
  max_resample_rounds: 'dynamic sampling only',
  overlong_buffer_length: 'DAPO soft overlong punishment: no GRPOConfig field, but TRL\'s own reward function ' +
    'trl.rewards.get_soft_overlong_punishment(max_completion_len=max_completion_length, soft_punish_cache=overlong_buffer_length), added to the reward functions when on',
  overlong_penalty_factor: 'the soft overlong punishment\'s weight in reward_weights: TRL\'s ramp goes from 0 to −1, the lab\'s to −factor; ' +
    'logged as rewards/soft_overlong_punishment_reward/mean (the lab: rewards/overlong/mean)',
  cold_start_steps: 'no GRPOConfig field: the project starts from model/ without the cold start. Export the run\'s current model after ' +
    'the lab\'s cold start instead, or train trl.SFTTrainer on worked examples first',
  cold_start_learning_rate: 'cold start only',
  eval_every: 'no GRPOConfig field: TrainingArguments\' eval_strategy/eval_steps schedule train.py\'s own held-out evaluation',
  eval_problems: 'no GRPOConfig field: data/eval.jsonl holds that many held-out problems; `--eval_problems N` evaluates on the first N',
}

/** The reward weights train.py gives GRPOConfig: the task's functions, then the overlong punishment when on. */
export function trlRewardWeights(c: RunConfig): number[] {
  const w = rewardWeights(taskFor(c), c.reward_weights)
  return c.overlong_buffer_length > 0 ? [...w, c.overlong_penalty_factor] : w
}

/** Every lab key with the TRL fields that carry it, for the README's second table. */
export function labKeysInTrl(): { key: Key; fields: string[]; note?: string }[] {
  return (Object.keys(RUN_CONFIG_SPEC) as Key[]).map((key) => ({
    key, fields: TRL_FIELDS.filter((f) => f.keys.includes(key) && f.value).map((f) => f.field), note: LAB_ONLY[key],
  }))
}

/** What the export says about the run: the lab's keys that are not the field of the same name, with their values. */
export function trlNotes(c: RunConfig): string[] {
  const b = trlBatch(c)
  const translated = TRL_FIELDS.map((f) => f.translated?.(c, b)).filter((s): s is string => !!s)
  const show = (v: unknown) => (typeof v === 'string' ? (v === '' ? "''" : v) : JSON.stringify(v))
  const unmapped = (Object.keys(LAB_ONLY) as Key[]).map((k) => `${k} = ${show(c[k])}: ${LAB_ONLY[k]}`)
  return [...translated, ...unmapped]
}

// ---------------------------------------------------------------------------------------------
// The README's table (scripts/trl-readme.ts writes it between these markers)

export const README_MARKERS = { start: '<!-- grpo-config-table:start (scripts/trl-readme.ts writes this part) -->', end: '<!-- grpo-config-table:end -->' }

const cell = (s: string) => s.replace(/\|/g, '\\|')

export function grpoConfigTable(): string {
  const rows = TRL_FIELDS.map((f) => {
    const lab = f.keys.length ? f.keys.map((k) => `\`${k}\``).join(', ') : f.fixedValue ? 'fixed' : '—'
    const value = f.fixedValue ? ` \`${f.fixedValue}\`` : ''
    return `| \`${f.field}\`${f.from === 'TrainingArguments' ? ' ¹' : ''} | ${lab}${value} | ${cell(f.how)} |`
  })
  const keys = labKeysInTrl().map(({ key, fields, note }) => {
    const into = [fields.map((f) => `\`${f}\``).join(', '), note].filter(Boolean).join('; ')
    return `| \`${key}\` | ${cell(RUN_CONFIG_SPEC[key].help)} | ${cell(into)} |`
  })
  return [
    README_MARKERS.start,
    '',
    `Every field TRL 1.13's \`GRPOConfig\` declares itself, in its order, and below them (¹) the \`TrainingArguments\``,
    'fields `train.py` sets: the lab key it comes from, fixed to what the lab does, or not applicable and why.',
    '',
    '| GRPOConfig field | lab | how |',
    '|---|---|---|',
    ...rows,
    '',
    'And every lab key, with what carries it in TRL:',
    '',
    '| lab key | in the lab | in TRL |',
    '|---|---|---|',
    ...keys,
    '',
    README_MARKERS.end,
  ].join('\n')
}

/** `readme` with the part between the markers replaced by the generated table. */
export function withGrpoConfigTable(readme: string): string {
  const a = readme.indexOf(README_MARKERS.start)
  const b = readme.indexOf(README_MARKERS.end)
  if (a < 0 || b < a) throw new Error(`README.md has no ${README_MARKERS.start} … ${README_MARKERS.end} part`)
  return readme.slice(0, a) + grpoConfigTable() + readme.slice(b + README_MARKERS.end.length)
}
