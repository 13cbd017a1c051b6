// The `grpo-lab` command: the lab's engine headless, for runs, sweeps and checks.
//   grpo-lab train [--config FILE | --link URL] [--steps N] [--seed S] [--backend webgpu|cpu|reference] [--out DIR] [--stop-after N]  (metrics, traces, model)
//   grpo-lab publish --run DIR --out FILE.safetensors   (a finished run's policy and manifest, as public/models/ holds)
//   grpo-lab record --preset ID [--stop-after N] [--trace-every K] --out public/replays/ID.json   (a replay, src/lab/replay.ts)
//   grpo-lab worksheet [--backend webgpu|cpu|reference] --input FILE
//   grpo-lab score --task ID --problem JSON --completion TEXT
//   grpo-lab export --format onnx --model FILE.safetensors [--out FILE.onnx] [--kv-cache]
//   grpo-lab export --format hf --model MODEL --out DIR                 (a Hugging Face gpt2 folder)
//   grpo-lab export --format trl [--config FILE | --link URL] [--model MODEL] --out DIR   (a TRL project)
//   grpo-lab generate --model MODEL --prompt P [--prompt P2 …] [--greedy | --temperature T --seed S] [--max-new-tokens N] [--n K]
//   grpo-lab logits --model MODEL --text S [--text S2 …]                (full forward, reference CPU backend)
//   grpo-lab update --config C.json --model MODEL --rollout R.json [--backend cpu|webgpu|reference]  (one update on a given rollout)
// MODEL: a lab .safetensors checkpoint, a Hugging Face gpt2 folder, or a .zip of one.
// Invalid input: one line naming the field and what is allowed, exit status 2.

import { mkdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { adapterLabel, type Backend } from '../engine/backend'
import { CpuBackend } from '../engine/cpu/cpuBackend'
import { parseUntrustedJson } from '../model/untrustedJson'
import { parseLink } from '../lab/link'
import { configFromFile } from '../lab/runFile'
import { checkValue, resolveRunConfig, RunConfigError, type RunConfig } from '../rl/config'
import { GRPOTrainer } from '../rl/trainer'
import { computeWorksheet, parseWorksheetInput } from '../rl/worksheet'
import { rewardWeights, scoreCompletion } from '../rl/rewards'
import { getTask, taskFor } from '../tasks/registry'
import { COUNTDOWN_CORPORA, COUNTDOWN_CORPUS, DEFAULT_COUNTDOWN, countdownTask, isCountdownCorpus } from '../tasks/countdown'
import { createHash } from 'node:crypto'
import { basename } from 'node:path'
import { checkpointOf, saveSafetensors } from '../model/checkpoint'
import { GPT } from '../model/gpt'
import { loadInto } from '../model/checkpoint'
import { DEFAULT_PRETRAIN, pretrain, type PretrainOptions } from '../lab/pretrain'
import { evaluateModel } from '../rl/evaluate'
import { onnxFromCheckpoint } from '../export/onnx'
import { hfFolderFiles, type ModelCardInfo } from '../export/hf'
import { trlProjectFiles } from '../export/trlProject'
import { checkpointFromBytes, checkpointFromHfFiles } from '../model/hfFolder'
import { generateText, sequenceLogits } from '../model/inference'
import type { Checkpoint } from '../model/checkpoint'
import { CharTokenizer, EOS_ID } from '../model/tokenizer'
import type { Problem } from '../tasks/types'
import { existsSync, readdirSync } from 'node:fs'
import { parseUpdateRollout } from './updateInput'
import { recordReplay } from './record'
import { presetById, PRESETS } from '../lab/presets'
import { DEFAULT_RUN_CONFIG } from '../rl/config'
import { parseReplay, replayText } from '../lab/replay'

export class UsageError extends Error {}

const USAGE = `usage:
  grpo-lab train [--config FILE | --link 'URL or #fragment'] [--steps N] [--seed S] [--backend webgpu|cpu|reference] [--out DIR]
                 [--stop-after N]   (stop after step N of the run, as pausing the page does; the schedule still spans all steps)
  grpo-lab pretrain --task ID [--countdown-numbers N --countdown-max-number M --countdown-max-target T] [--countdown-corpus forward|backward|reachable|shuffled [--countdown-room N]] [--format-noise P] [--eval-problems N] [--steps N] [--seed S] [--batch-size B] [--n-layer L] [--n-head H] [--n-embd C]
                    [--block-size T] [--learning-rate LR] [--backend webgpu|cpu|reference] [--out FILE.safetensors]
  grpo-lab eval --task ID [--countdown-numbers N ...] --model MODEL [--n N] [--k K] [--temperature T] [--seed S] [--backend webgpu|cpu|reference]
                [--completions-out FILE.jsonl]   (each problem's prompt, greedy completion and reward)
  grpo-lab publish --run DIR --out FILE.safetensors [--eval-problems N]   (a finished train run's policy with its manifest, as public/models/ holds)
  grpo-lab record --preset ID [--stop-after N] [--trace-every K] [--worksheet-groups W] [--threads T] --out FILE.json
                  (a preset's run as a replay for the page, public/replays/ID.json: recorded on the page's CPU backend,
                   the fast one with relaxed FMA; --stop-after: its first N steps only, of the preset's whole schedule)
  grpo-lab worksheet [--backend webgpu|cpu|reference] --input FILE
  grpo-lab score --task ID --problem JSON --completion TEXT
  grpo-lab export --format onnx --model MODEL [--out FILE.onnx] [--kv-cache]
  grpo-lab export --format hf --model MODEL --out DIR   (a Hugging Face gpt2 folder: safetensors, config, tokenizer, ONNX, card)
  grpo-lab export --format trl [--config FILE | --link 'URL or #fragment'] [--steps N] [--seed S] [--model MODEL] --out DIR
                  (the run as a TRL project: model/, data/, rewards.py, train.py, README.md; MODEL defaults to the
                  config's base_model, fresh weights from its seed when that is empty)
  grpo-lab generate --model MODEL --prompt P [--prompt P2 ...] [--greedy | --temperature T --seed S] [--max-new-tokens N]
                    [--n K] [--backend cpu|webgpu|reference]   (JSON; the default backend is cpu)
  grpo-lab logits --model MODEL --text S [--text S2 ...]   (JSON: every position's logits, reference CPU backend)
  grpo-lab update --config FILE --model MODEL --rollout FILE [--backend cpu|webgpu|reference]
                  (the trainer's update phase on a given rollout: advantages, reference and old log-probs, μ passes of
                   minibatch AdamW steps; JSON: advantages, each optimizer step's loss and grad_norm, metrics; default cpu)
MODEL: a lab .safetensors checkpoint, a Hugging Face gpt2 folder (as export --format hf writes), or a .zip of one
BACKEND: webgpu (Dawn: a GPU, or SwiftShader), cpu (the fast CPU backend: WebAssembly SIMD on every core up to
         16, or --threads N), reference (the plain TypeScript backend the others are checked against)`

type Flags = Record<string, string>

/** Flags that may be given several times: every value, in order (parseFlags keeps the last). */
function repeated(args: string[], name: string): string[] {
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}` && i + 1 < args.length) out.push(args[++i])
    else if (args[i].startsWith(`--${name}=`)) out.push(args[i].slice(name.length + 3))
  }
  return out
}

/** Switches (flags without a value) present in args, and the other args. */
function switches(args: string[], names: string[]): { on: Set<string>; rest: string[] } {
  const on = new Set(names.filter((n) => args.includes(`--${n}`)))
  return { on, rest: args.filter((a) => !names.some((n) => a === `--${n}`)) }
}

function parseFlags(args: string[], allowed: string[]): Flags {
  const flags: Flags = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (!a.startsWith('--')) throw new UsageError(`${a}: unexpected argument; allowed flags: ${allowed.map((f) => `--${f}`).join(', ')}`)
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2)
    if (!allowed.includes(name)) throw new UsageError(`--${name}: unknown flag; allowed: ${allowed.map((f) => `--${f}`).join(', ')}`)
    const value = eq > 0 ? a.slice(eq + 1) : args[++i]
    if (value === undefined) throw new UsageError(`--${name}: needs a value`)
    flags[name] = value
  }
  return flags
}

/** Config and worksheet files are a few kB; a bigger or deeper one is refused before it is parsed. */
const JSON_FILE_LIMITS = { maxChars: 16 * 1024 * 1024, maxDepth: 16, maxMembers: 1024 }

function readJson(path: string, field: string): unknown {
  let text: string
  try {
    const size = statSync(path).size
    if (size > JSON_FILE_LIMITS.maxChars) throw new UsageError(`${field}: ${path} has ${size} bytes; allowed: a JSON file of at most ${JSON_FILE_LIMITS.maxChars}`)
    text = readFileSync(path, 'utf8')
  } catch (e) {
    if (e instanceof UsageError) throw e
    throw new UsageError(`${field}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
  }
  const parsed = parseUntrustedJson(text, JSON_FILE_LIMITS)
  if ('error' in parsed) throw new UsageError(`${field}: ${path}: ${parsed.error}`)
  return parsed.value
}

function int(flags: Flags, name: string, lo: number, hi: number): number | undefined {
  if (flags[name] === undefined) return undefined
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`--${name}: got ${JSON.stringify(flags[name])}; allowed: an integer from ${lo} to ${hi}`)
  return v
}

/** --backend webgpu (Dawn), cpu (the fast CPU backend: WebAssembly SIMD on --threads threads, default
 *  every core up to 16) or reference (the plain TypeScript twin the others are checked against). */
async function backendOf(flags: Flags): Promise<Backend> {
  const name = flags.backend ?? 'webgpu'
  const threads = int(flags, 'threads', 1, 256)
  if (threads !== undefined && name !== 'cpu') throw new UsageError(`--threads: only with --backend cpu (got --backend ${name})`)
  if (name === 'cpu') {
    const { createFastCpuBackend } = await import('../engine/cpu/fastCpuNode')
    return createFastCpuBackend({ threads })
  }
  if (name === 'reference') return new CpuBackend('f32')
  if (name !== 'webgpu') throw new UsageError(`--backend: got ${JSON.stringify(name)}; allowed: webgpu, cpu, reference`)
  const { createNodeWebGPUBackend } = await import('../engine/node')
  return createNodeWebGPUBackend()
}

/** The run configuration from --config or --link, with --steps and --seed on top. */
export function runConfigFromFlags(flags: Flags): RunConfig {
  if (flags.config && flags.link) throw new UsageError('--config, --link: give one of them, not both')
  let partial: Record<string, unknown> = {}
  if (flags.config) {
    const j = readJson(flags.config, '--config')
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new UsageError('--config: expected a JSON object of run settings')
    partial = { ...(j as Record<string, unknown>) }
    // the file alone, so that its errors name the file (--steps and --seed are checked below)
    try { configFromFile(partial) } catch (e) { throw new UsageError(`--config: ${flags.config}: ${(e as Error).message}`) }
  } else if (flags.link) {
    const parsed = parseLink(flags.link)
    if (parsed.problems.length) throw new UsageError(`--link: ${parsed.problems[0].message}`)
    partial = { ...parsed.values }
  }
  const steps = int(flags, 'steps', 1, 100000)
  const seed = int(flags, 'seed', 0, 2 ** 31 - 1)
  if (steps !== undefined) partial.max_steps = steps
  if (seed !== undefined) partial.seed = seed
  return resolveRunConfig(partial)
}

async function train(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['config', 'link', 'steps', 'seed', 'backend', 'threads', 'out', 'stop-after'])
  const config = runConfigFromFlags(flags)
  const stopAfter = int(flags, 'stop-after', 1, config.max_steps) ?? config.max_steps
  const task = taskFor(config)
  const base = config.base_model ? readCheckpoint(modelPath(config.base_model), 'base_model').checkpoint : undefined
  const be = await backendOf(flags)
  const out = flags.out ?? 'runs/latest'
  mkdirSync(out, { recursive: true })
  const metricsPath = join(out, 'metrics.jsonl')
  const tracesPath = join(out, 'traces.jsonl')
  writeFileSync(metricsPath, '')
  writeFileSync(tracesPath, '')
  const adapter = adapterLabel(be.describe())
  writeFileSync(join(out, 'run.json'), JSON.stringify({ config, adapter, started: new Date().toISOString() }, null, 2) + '\n')
  process.stderr.write(`grpo-lab train: task ${task.id}, ${config.max_steps} steps, ${adapter}, writing ${out}/\n`)
  const trainer = GRPOTrainer.create(be, config, task, base)
  trainer.onColdStartProgress = (done, total, loss) => {
    if (done % 10 === 0 || done === total) process.stderr.write(`cold start ${done}/${total}  loss ${loss.toFixed(4)}\n`)
  }
  for (let s = 0; s < stopAfter; s++) {
    const { metrics, trace } = await trainer.trainStep()
    if (config.eval_every > 0 && (trainer.step % config.eval_every === 0 || trainer.step === config.max_steps)) {
      Object.assign(metrics, await trainer.evaluate())
    }
    appendFileSync(metricsPath, JSON.stringify(metrics) + '\n')
    appendFileSync(tracesPath, JSON.stringify(trace) + '\n')
    const acc = metrics.accuracy.toFixed(3)
    // kl is logged only when beta > 0, as TRL does
    const kl = metrics.kl === undefined ? '' : `kl ${metrics.kl.toFixed(4)}  `
    process.stderr.write(`step ${trainer.step}/${config.max_steps}  reward ${metrics.reward.toFixed(3)}  accuracy ${acc}  ` +
      `length ${metrics['completions/mean_length'].toFixed(1)}  ${kl}${(metrics.step_time * 1000).toFixed(0)} ms\n`)
  }
  // the trained policy, for `grpo-lab eval` and `grpo-lab export`
  const meta = { task: task.id, step: String(trainer.step), seed: String(config.seed) }
  writeFileSync(join(out, 'model.safetensors'), saveSafetensors(await checkpointOf(trainer.model, trainer.tokenizer, meta)))
  trainer.destroy()
  be.destroy()
}

/** A model the lab can load: its own .safetensors checkpoint, a Hugging Face gpt2 folder, or a .zip of one. */
export function readCheckpoint(path: string, field: string): { checkpoint: Checkpoint } {
  const cannot = (e: unknown): never => {
    throw new UsageError(`${field}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
  }
  let isDir = false
  try { isDir = statSync(path).isDirectory() } catch (e) { cannot(e) }
  if (isDir) {
    const files = new Map<string, Uint8Array>()
    for (const name of ['config.json', 'tokenizer.json', 'model.safetensors']) {
      try { files.set(name, new Uint8Array(readFileSync(join(path, name)))) } catch { /* named by the reader */ }
    }
    if (!files.has('config.json')) {
      const found = readdirSync(path).slice(0, 12).join(', ') || 'nothing'
      throw new UsageError(`${field}: ${path} is a folder without config.json (found ${found}); allowed: a .safetensors checkpoint or a Hugging Face gpt2 folder`)
    }
    return { checkpoint: checkpointFromHfFiles(files) }
  }
  let bytes: Uint8Array = new Uint8Array()
  try { bytes = new Uint8Array(readFileSync(path)) } catch (e) { cannot(e) }
  return { checkpoint: checkpointFromBytes(bytes) }
}

async function modelOf(flags: Flags, defaultBackend: 'cpu' | 'webgpu') {
  if (!flags.model) throw new UsageError('--model: required; allowed: a .safetensors checkpoint, a Hugging Face gpt2 folder or a .zip of one')
  const { checkpoint } = readCheckpoint(modelPath(flags.model), '--model')
  const be = await backendOf({ backend: defaultBackend, ...flags })
  const model = new GPT(be, checkpoint.config)
  loadInto(model, checkpoint)
  return { checkpoint, be, model }
}

/** Prompts and texts must be in the alphabet and fit the context. */
function encodeFor(ck: Checkpoint, text: string, field: string, room: number): number[] {
  let ids: number[]
  try { ids = ck.tokenizer.encode(text) } catch (e) { throw new UsageError(`${field}: ${(e as Error).message}`) }
  if (ids.length < 1 || ids.length > ck.config.blockSize - room) {
    throw new UsageError(`${field}: ${ids.length} tokens; allowed: 1 to ${ck.config.blockSize - room} (the context is ${ck.config.blockSize})`)
  }
  return ids
}

async function generateCommand(args: string[]): Promise<void> {
  const { on, rest } = switches(args, ['greedy'])
  const flags = parseFlags(rest, ['model', 'prompt', 'temperature', 'seed', 'max-new-tokens', 'n', 'backend', 'threads'])
  const prompts = repeated(rest, 'prompt')
  if (prompts.length === 0) throw new UsageError('--prompt: required (may be repeated); allowed: text in the model\'s alphabet')
  if (on.has('greedy') && flags.temperature !== undefined) throw new UsageError('--greedy, --temperature: give one of them, not both')
  const temperature = on.has('greedy') ? 0 : flags.temperature === undefined ? 1 : Number(flags.temperature)
  if (!(temperature >= 0 && temperature <= 3)) throw new UsageError(`--temperature: got ${JSON.stringify(flags.temperature)}; allowed: a number from 0 to 3`)
  const { checkpoint, be, model } = await modelOf(flags, 'cpu')
  prompts.forEach((p) => encodeFor(checkpoint, p, '--prompt', 1))
  const completions = await generateText(model, checkpoint.tokenizer, prompts, {
    temperature, seed: int(flags, 'seed', 0, 2 ** 31 - 1) ?? 0,
    maxNewTokens: int(flags, 'max-new-tokens', 1, checkpoint.config.blockSize), n: int(flags, 'n', 1, 1024) ?? 1,
  })
  process.stdout.write(JSON.stringify({ model: flags.model, completions }) + '\n')
  model.destroy()
  be.destroy()
}

async function logitsCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['model', 'text'])
  const texts = repeated(args, 'text')
  if (texts.length === 0) throw new UsageError('--text: required (may be repeated); allowed: text in the model\'s alphabet')
  const { checkpoint, be, model } = await modelOf({ ...flags, backend: 'reference' }, 'cpu')
  const V = checkpoint.config.vocabSize
  const results = []
  for (const text of texts) {
    const ids = encodeFor(checkpoint, text, '--text', 0)
    const flat = await sequenceLogits(model, ids)
    results.push({ text, token_ids: ids, logits: ids.map((_, t) => Array.from(flat.subarray(t * V, (t + 1) * V))) })
  }
  process.stdout.write(JSON.stringify({ model: flags.model, results }) + '\n')
  model.destroy()
  be.destroy()
}

/** One update of the GRPO trainer on a rollout from a file, with the model from --model as the
 *  policy, the reference (β > 0) and the old policy: what TRL's trainer does with the same
 *  rollout, for comparing the two. The config's base_model is not loaded; cold start does not run. */
async function updateCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['config', 'model', 'rollout', 'backend', 'threads'])
  if (!flags.config) throw new UsageError('--config: required; allowed: a JSON file of run settings')
  if (!flags.rollout) throw new UsageError('--rollout: required; allowed: a JSON file with prompt_ids, completion_ids, truncated, rewards and optionally rewards_per_func')
  if (!flags.model) throw new UsageError('--model: required; allowed: a .safetensors checkpoint, a Hugging Face gpt2 folder or a .zip of one')
  const config = runConfigFromFlags({ config: flags.config })
  const task = taskFor(config)
  const { checkpoint } = readCheckpoint(modelPath(flags.model), '--model')
  const raw = readJson(flags.rollout, '--rollout')
  const be = await backendOf({ backend: 'cpu', ...flags })
  const trainer = GRPOTrainer.create(be, config, task, checkpoint)
  try {
    const rollout = parseUpdateRollout(raw, {
      config, vocabSize: checkpoint.config.vocabSize, blockSize: checkpoint.config.blockSize, eosId: EOS_ID,
      rewardFunctions: trainer.rewardFunctionNames(),
    })
    const r = await trainer.update(rollout)
    process.stdout.write(JSON.stringify({
      advantages: r.advantages,
      optimizer_steps: r.optimizerSteps.map((o) => ({ loss: o.loss, grad_norm: o.gradNorm, learning_rate: o.learningRate })),
      metrics: r.metrics,
    }) + '\n')
  } finally {
    trainer.destroy()
    be.destroy()
  }
}

/** A shipped model's name ('addition') is public/models/addition.safetensors; anything else is a path. */
export function baseModelPath(name: string): string {
  return /^[a-z][a-z0-9-]*$/.test(name) ? `public/models/${name}.safetensors` : name
}

/** A shipped model's name, unless a file or folder of that name is here. */
const modelPath = (name: string) => existsSync(name) ? name : baseModelPath(name)

/** Held-out problems and samples per problem used for every base model's manifest. */
export const MANIFEST_EVAL = { n: 128, k: 8, temperature: 1.0 }

/** The task options' flags: each run config key countdown_x as --countdown-x. */
const TASK_OPTION_FLAGS = ['countdown-numbers', 'countdown-max-number', 'countdown-max-target']

/** --task with its options (--countdown-numbers …), each checked as the run config checks its key;
 *  `given` holds the options set, for the manifest and its command. */
function taskFromFlags(flags: Flags): { task: ReturnType<typeof getTask>; given: Record<string, number> } {
  if (!flags.task) throw new UsageError('--task: required; allowed: a task id such as addition or countdown')
  const given: Record<string, number> = {}
  for (const flag of TASK_OPTION_FLAGS) {
    if (flags[flag] === undefined) continue
    if (flags.task !== 'countdown') throw new UsageError(`--${flag}: only with --task countdown (got --task ${flags.task})`)
    const key = flag.replace(/-/g, '_')
    try {
      given[key] = checkValue(key, Number(flags[flag])) as number
    } catch (e) {
      if (!(e instanceof RunConfigError)) throw e
      throw new UsageError(`--${flag}: got ${JSON.stringify(flags[flag])}; allowed: ${e.message.slice(e.message.indexOf('allowed: ') + 9)}`)
    }
  }
  return { task: taskFor({ task: flags.task, ...given }), given }
}

/** The options as flags again, for a manifest's command. */
const optionFlags = (given: Record<string, number>) => Object.entries(given).map(([k, v]) => ` --${k.replace(/_/g, '-')} ${v}`).join('')

/** pretrain's --countdown-corpus: the task with that search in its documents (countdown.ts's
 *  COUNTDOWN_CORPUS when the flag is absent); only pretraining text depends on it. */
function withCorpus(flags: Flags, task: ReturnType<typeof getTask>, given: Record<string, number>): { task: ReturnType<typeof getTask>; corpus: string | null } {
  const corpus = flags['countdown-corpus']
  if (corpus === undefined) return { task, corpus: null }
  if (flags.task !== 'countdown') throw new UsageError(`--countdown-corpus: only with --task countdown (got --task ${flags.task})`)
  if (!isCountdownCorpus(corpus)) throw new UsageError(`--countdown-corpus: got ${JSON.stringify(corpus)}; allowed: ${COUNTDOWN_CORPORA.join(', ')} (default ${COUNTDOWN_CORPUS})`)
  const room = int(flags, 'countdown-room', 32, 512)
  if (room !== undefined && corpus === 'forward') throw new UsageError('--countdown-room: only with --countdown-corpus backward, reachable or shuffled')
  const d = DEFAULT_COUNTDOWN
  return {
    task: countdownTask({ numbers: given.countdown_numbers ?? d.numbers, maxNumber: given.countdown_max_number ?? d.maxNumber, maxTarget: given.countdown_max_target ?? d.maxTarget, corpus, room }),
    corpus: room === undefined ? corpus : `${corpus} --countdown-room ${room}`,
  }
}

async function pretrainCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['task', ...TASK_OPTION_FLAGS, 'countdown-corpus', 'countdown-room', 'format-noise', 'eval-problems', 'steps', 'seed', 'batch-size', 'n-layer', 'n-head', 'n-embd', 'block-size', 'learning-rate', 'backend', 'threads', 'out'])
  const fromFlags = taskFromFlags(flags)
  const given = fromFlags.given
  const { task, corpus } = withCorpus(flags, fromFlags.task, given)
  const d = DEFAULT_PRETRAIN
  const o: PretrainOptions = {
    ...d,
    steps: int(flags, 'steps', 1, 1000000) ?? d.steps,
    seed: int(flags, 'seed', 0, 2 ** 31 - 1) ?? d.seed,
    batchSize: int(flags, 'batch-size', 1, 1024) ?? d.batchSize,
    nLayer: int(flags, 'n-layer', 1, 8) ?? d.nLayer,
    nHead: int(flags, 'n-head', 1, 16) ?? d.nHead,
    nEmbd: int(flags, 'n-embd', 8, 512) ?? d.nEmbd,
    blockSize: int(flags, 'block-size', 16, 512) ?? d.blockSize,
  }
  if (flags['learning-rate'] !== undefined) {
    const lr = Number(flags['learning-rate'])
    if (!(lr > 0 && lr <= 1)) throw new UsageError(`--learning-rate: got ${JSON.stringify(flags['learning-rate'])}; allowed: a number in (0, 1]`)
    o.learningRate = lr
  }
  if (flags['format-noise'] !== undefined) {
    const share = Number(flags['format-noise'])
    if (!(share >= 0 && share <= 1) || flags['format-noise'].trim() === '') throw new UsageError(`--format-noise: got ${JSON.stringify(flags['format-noise'])}; allowed: a share from 0 to 1`)
    o.formatNoise = share
  }
  if (o.nEmbd % o.nHead !== 0) throw new UsageError(`--n-head: ${o.nHead} does not divide --n-embd ${o.nEmbd}`)
  const out = flags.out ?? `public/models/${task.id}.safetensors`
  const be = await backendOf(flags)
  const t0 = performance.now()
  process.stderr.write(`grpo-lab pretrain: task ${task.id}, ${o.steps} steps of ${o.batchSize} documents, ${adapterLabel(be.describe())}\n`)
  const { model, tokenizer, finalLoss } = await pretrain(be, task, o, (p) => {
    if (p.step % 50 === 0 || p.step === p.steps) process.stderr.write(`step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}\n`)
  })
  const minutes = (performance.now() - t0) / 60000
  const evalProblems = int(flags, 'eval-problems', 1, 4096) ?? MANIFEST_EVAL.n
  const evaluation = await evaluateModel(model, tokenizer, task, { ...MANIFEST_EVAL, n: evalProblems, maxNewTokens: task.maxCompletionLength, seed: o.seed })
  const bytes = saveSafetensors(await checkpointOf(model, tokenizer, { task: task.id }))
  mkdirSync(join(out, '..'), { recursive: true })
  writeFileSync(out, bytes)
  const manifest = {
    task: task.id,
    ...(Object.keys(given).length ? { task_options: given } : {}),
    file: basename(out),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    config: model.config,
    tokenizer: tokenizer.toJSON(),
    corpus: { recipe: `task '${task.id}' pretraining text (src/tasks/${task.id}.ts), one document per row`, documents: o.steps * o.batchSize, seed: o.seed },
    pretrain: o,
    final_loss: finalLoss,
    held_out: { problems: evalProblems, k: MANIFEST_EVAL.k, temperature: MANIFEST_EVAL.temperature, ...evaluation },
    backend: adapterLabel(be.describe()),
    minutes: Number(minutes.toFixed(1)),
    command: `npx grpo-lab pretrain --task ${task.id}${optionFlags(given)}${corpus ? ` --countdown-corpus ${corpus}` : ''} --steps ${o.steps} --seed ${o.seed} --batch-size ${o.batchSize} ` +
      `--n-layer ${o.nLayer} --n-head ${o.nHead} --n-embd ${o.nEmbd} --block-size ${o.blockSize} --learning-rate ${o.learningRate} ` +
      (o.formatNoise ? `--format-noise ${o.formatNoise} ` : '') + (evalProblems !== MANIFEST_EVAL.n ? `--eval-problems ${evalProblems} ` : '') +
      `--backend ${be.kind} --out ${out}`,
  }
  writeFileSync(out.replace(/\.safetensors$/, '') + '.json', JSON.stringify(manifest, null, 2) + '\n')
  process.stdout.write(JSON.stringify({ final_loss: finalLoss, ...evaluation }) + '\n')
  model.destroy()
  be.destroy()
}

/** A trained policy beside the base models: `grpo-lab train --out DIR`'s model with a manifest of its
 *  run (the config that reproduces it, steps, time, backend) and its held-out figures, evaluated as
 *  the base models are (reference CPU backend, MANIFEST_EVAL), so test/unit/models.test.ts checks it alike. */
async function publishCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['run', 'out', 'eval-problems'])
  const evalProblems = int(flags, 'eval-problems', 1, 4096) ?? MANIFEST_EVAL.n
  if (!flags.run) throw new UsageError('--run: required; allowed: a folder written by grpo-lab train --out')
  if (!flags.out?.endsWith('.safetensors')) throw new UsageError('--out: required; allowed: a path ending in .safetensors, e.g. public/models/addition-grpo.safetensors')
  const run = readJson(join(flags.run, 'run.json'), '--run') as { config: Record<string, unknown>; adapter: string }
  const metrics = readFileSync(join(flags.run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
  const { checkpoint } = readCheckpoint(join(flags.run, 'model.safetensors'), '--run')
  const config = configFromFile(run.config)
  // the run's own difficulty (countdown_*), as the trainer drew its problems
  const task = taskFor(config)
  const taskOptions = Object.fromEntries(TASK_OPTION_FLAGS.map((f) => f.replace(/-/g, '_')).filter((k) => config.task === 'countdown' && k in config)
    .map((k) => [k, (config as unknown as Record<string, number>)[k]]))
  const steps = metrics.at(-1)?.step ?? 0
  if (steps !== config.max_steps) throw new UsageError(`--run: the run stopped at step ${steps} of ${config.max_steps}; publish a finished run`)
  const be = new CpuBackend('f32')
  const model = new GPT(be, checkpoint.config)
  loadInto(model, checkpoint)
  const evaluation = await evaluateModel(model, checkpoint.tokenizer, task, { ...MANIFEST_EVAL, n: evalProblems, maxNewTokens: task.maxCompletionLength, seed: config.seed })
  const bytes = saveSafetensors(await checkpointOf(model, checkpoint.tokenizer, { task: task.id, step: String(steps), seed: String(config.seed) }))
  mkdirSync(join(flags.out, '..'), { recursive: true })
  writeFileSync(flags.out, bytes)
  const lastEval = metrics.filter((m) => m['eval/pass@1'] !== undefined).at(-1)
  const manifest = {
    task: task.id,
    ...(Object.keys(taskOptions).length ? { task_options: taskOptions } : {}),
    file: basename(flags.out),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.length,
    config: model.config,
    tokenizer: checkpoint.tokenizer.toJSON(),
    grpo: {
      from: config.base_model || `fresh weights of seed ${config.seed}`, seed: config.seed, steps,
      backend: run.adapter, step_minutes: Number((metrics.reduce((t, m) => t + m.step_time, 0) / 60).toFixed(1)),
      last_eval: lastEval ? { step: lastEval.step, ...Object.fromEntries(Object.entries(lastEval).filter(([k]) => k.startsWith('eval/'))) } : null,
      run_config: config,
    },
    held_out: { problems: evalProblems, k: MANIFEST_EVAL.k, temperature: MANIFEST_EVAL.temperature, ...evaluation },
    backend: adapterLabel(be.describe()),
    command: `npx grpo-lab train --config CONFIG.json --backend cpu --out ${flags.run} (CONFIG.json: grpo.run_config) && ` +
      `npx grpo-lab publish --run ${flags.run} --out ${flags.out}${evalProblems !== MANIFEST_EVAL.n ? ` --eval-problems ${evalProblems}` : ''}`,
  }
  writeFileSync(flags.out.replace(/\.safetensors$/, '') + '.json', JSON.stringify(manifest, null, 2) + '\n')
  process.stdout.write(JSON.stringify(evaluation) + '\n')
  model.destroy()
  be.destroy()
}

/** A preset's run as a replay (src/cli/record.ts), read back through the page's own checks before it is written. */
async function recordCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['preset', 'stop-after', 'trace-every', 'worksheet-groups', 'threads', 'seed', 'out'])
  const preset = flags.preset === undefined ? undefined : presetById(flags.preset)
  if (!preset) throw new UsageError(`--preset: got ${JSON.stringify(flags.preset ?? null)}; allowed: ${PRESETS.map((p) => p.id).join(', ')}`)
  if (!flags.out?.endsWith('.json')) throw new UsageError(`--out: required; allowed: a path ending in .json, e.g. public/replays/${preset.id}.json`)
  const seed = int(flags, 'seed', 0, 2 ** 31 - 1)
  // as the page's choosePreset makes it: the preset over the defaults (the default seed unless --seed)
  const config = resolveRunConfig({ ...DEFAULT_RUN_CONFIG, ...preset.values, ...(seed === undefined ? {} : { seed }) })
  const steps = int(flags, 'stop-after', 1, config.max_steps) ?? config.max_steps
  const base = config.base_model ? readCheckpoint(modelPath(config.base_model), 'base_model').checkpoint : undefined
  const command = ['npx grpo-lab record', ...args.map((a) => (/^[\w./=-]+$/.test(a) ? a : JSON.stringify(a)))].join(' ')
  process.stderr.write(`grpo-lab record: preset ${preset.id}, ${steps} of ${config.max_steps} steps, writing ${flags.out}\n`)
  const replay = await recordReplay({
    preset: preset.id, config, base, steps, command,
    traceEvery: int(flags, 'trace-every', 1, 100000) ?? 1,
    worksheetGroups: int(flags, 'worksheet-groups', 0, 1024) ?? 2,
    threads: int(flags, 'threads', 1, 256) ?? 1,
    onStep: (m) => process.stderr.write(`step ${m.step}/${steps}  reward ${m.reward.toFixed(3)}  ${(m.step_time * 1000).toFixed(0)} ms\n`),
  })
  const text = replayText(replay)
  parseReplay(text) // what the page reads: never write a replay it would refuse
  mkdirSync(join(flags.out, '..'), { recursive: true })
  writeFileSync(flags.out, text + '\n')
  process.stdout.write(JSON.stringify({ out: flags.out, bytes: text.length + 1, steps, traces: replay.run.traces.length,
    worksheet_groups: replay.worksheet.length, minutes: replay.recorded.minutes, backend: replay.backend.label }) + '\n')
}

async function evalCommand(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['task', ...TASK_OPTION_FLAGS, 'model', 'n', 'k', 'temperature', 'seed', 'backend', 'threads', 'max-new-tokens', 'completions-out'])
  const { task } = taskFromFlags(flags)
  const temperature = flags.temperature === undefined ? 1 : Number(flags.temperature)
  if (!(temperature >= 0 && temperature <= 3)) throw new UsageError(`--temperature: got ${JSON.stringify(flags.temperature)}; allowed: a number from 0 to 3`)
  const { checkpoint, be, model } = await modelOf(flags, 'webgpu')
  const weights = rewardWeights(task, [])
  // one JSON line per held-out problem, so that another runtime can score the same completions
  const onGreedy = flags['completions-out'] === undefined ? undefined
    : (rows: { problem: Problem; text: string; tokens: number[] }[]) => {
        const lines = rows.map(({ problem, text, tokens }) => {
          const s = scoreCompletion(task, weights, problem, text, tokens.length)
          return JSON.stringify({
            prompt: problem.prompt, problem: problem.data, answer: problem.answer, completion: text, token_ids: tokens,
            stopped: tokens[tokens.length - 1] === EOS_ID ? 'eos' : 'length', rewards: s.byFunction, reward: s.total, correct: s.correct,
          })
        })
        mkdirSync(join(flags['completions-out'], '..'), { recursive: true })
        writeFileSync(flags['completions-out'], lines.join('\n') + '\n')
      }
  const m = await evaluateModel(model, checkpoint.tokenizer, task, {
    n: int(flags, 'n', 1, 100000) ?? 128, k: int(flags, 'k', 0, 64) ?? 8, temperature,
    maxNewTokens: int(flags, 'max-new-tokens', 1, 1024) ?? task.maxCompletionLength,
    seed: int(flags, 'seed', 0, 2 ** 31 - 1) ?? 1, onGreedy,
  })
  process.stdout.write(JSON.stringify(m) + '\n')
  model.destroy()
  be.destroy()
}

async function worksheet(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['backend', 'threads', 'input'])
  if (!flags.input) throw new UsageError('--input: required; allowed: a JSON file with "config" and "groups"')
  const input = parseWorksheetInput(readJson(flags.input, '--input'))
  const be = await backendOf(flags)
  const out = await computeWorksheet(be, input)
  process.stdout.write(JSON.stringify(out, null, 2) + '\n')
  be.destroy()
}

function score(args: string[]): void {
  const flags = parseFlags(args, ['task', 'problem', 'completion'])
  if (!flags.task) throw new UsageError('--task: required; allowed: a task id such as addition or countdown')
  if (flags.problem === undefined) throw new UsageError('--problem: required; allowed: the problem as JSON')
  if (flags.completion === undefined) throw new UsageError('--completion: required; allowed: the text generated after the prompt')
  const task = getTask(flags.task)
  let data: unknown
  try { data = JSON.parse(flags.problem) } catch (e) { throw new UsageError(`--problem: not valid JSON (${(e as Error).message})`) }
  const problem = task.parseProblem(data)
  const weights = rewardWeights(task, [])
  const s = scoreCompletion(task, weights, problem, flags.completion, flags.completion.length)
  process.stdout.write(JSON.stringify({ ...s.byFunction, total: s.total }) + '\n')
}

export const EXPORT_FORMATS = ['onnx', 'hf', 'trl'] as const

/** The files of a folder written under `out`, subfolders made. */
function writeFiles(out: string, files: Map<string, Uint8Array>): void {
  for (const [path, bytes] of files) {
    mkdirSync(join(out, path, '..'), { recursive: true })
    writeFileSync(join(out, path), bytes)
  }
}

/** The run's starting model: --model, else the config's base_model, else fresh weights from its seed (as train would make them). */
async function startingModel(config: RunConfig, model: string | undefined): Promise<{ checkpoint: Checkpoint; from: string }> {
  if (model) return { checkpoint: readCheckpoint(modelPath(model), '--model').checkpoint, from: basename(model) }
  if (config.base_model) return { checkpoint: readCheckpoint(modelPath(config.base_model), 'base_model').checkpoint, from: `base_model ${config.base_model}` }
  const task = taskFor(config)
  const be = new CpuBackend('f32')
  const tokenizer = new CharTokenizer(task.alphabet)
  const gpt = new GPT(be, { vocabSize: tokenizer.vocabSize, blockSize: config.block_size, nLayer: config.n_layer, nHead: config.n_head, nEmbd: config.n_embd })
  gpt.initialize(config.seed)
  const checkpoint = await checkpointOf(gpt, tokenizer, { task: task.id, step: '0', seed: String(config.seed) })
  gpt.destroy()
  be.destroy()
  return { checkpoint, from: `fresh weights of seed ${config.seed}` }
}

/** The run as a TRL project (src/export/trl.ts): what did not map is printed on stderr and listed in the JSON. */
async function exportTrl(flags: Flags): Promise<void> {
  if (!flags.out) throw new UsageError('--out: required with --format trl; allowed: a folder to write the project into')
  const config = runConfigFromFlags(flags)
  const { checkpoint, from } = await startingModel(config, flags.model)
  const { files, notes } = trlProjectFiles(config, checkpoint, from)
  writeFiles(flags.out, files)
  for (const n of notes) process.stderr.write(`grpo-lab export: ${n}\n`)
  process.stdout.write(JSON.stringify({ out: flags.out, format: 'trl', model: from, files: [...files.keys()].filter((p) => !p.startsWith('model/')), notes }) + '\n')
}

/** A checkpoint in another format: ONNX (logits, optionally with a KV cache) for onnxruntime and friends,
 *  a Hugging Face gpt2 folder (src/export/hf.ts), or a run as a TRL project (src/export/trl.ts). */
async function exportCommand(args: string[]): Promise<void> {
  // --kv-cache is a switch; every other flag takes a value
  const kvCache = args.includes('--kv-cache')
  const flags = parseFlags(args.filter((a) => a !== '--kv-cache'), ['format', 'model', 'out', 'kv-cache', 'config', 'link', 'steps', 'seed'])
  if (flags['kv-cache'] !== undefined) throw new UsageError(`--kv-cache: a switch, takes no value (got ${JSON.stringify(flags['kv-cache'])})`)
  const format = flags.format ?? 'onnx'
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format: got ${JSON.stringify(format)}; allowed: ${EXPORT_FORMATS.join(', ')}`)
  }
  if (kvCache && format !== 'onnx') throw new UsageError(`--kv-cache: only with --format onnx (${format === 'hf' ? "the hf folder's onnx/model.onnx always has the cache" : 'a TRL project needs no ONNX'})`)
  if (format === 'trl') return exportTrl(flags)
  for (const f of ['config', 'link', 'steps', 'seed']) {
    if (flags[f] !== undefined) throw new UsageError(`--${f}: only with --format trl (a run configuration); --format ${format} exports a model`)
  }
  if (!flags.model) throw new UsageError('--model: required; allowed: a .safetensors checkpoint, a Hugging Face gpt2 folder or a .zip of one')
  const { checkpoint } = readCheckpoint(flags.model, '--model')
  if (format === 'hf') {
    if (!flags.out) throw new UsageError('--out: required with --format hf; allowed: a folder to write the model into')
    const files = hfFolderFiles(checkpoint, await modelCardInfo(flags.model, checkpoint))
    writeFiles(flags.out, files)
    process.stdout.write(JSON.stringify({ out: flags.out, format, files: [...files.keys()] }) + '\n')
    return
  }
  const out = flags.out ?? flags.model.replace(/\.safetensors$/, '') + '.onnx'
  const bytes = onnxFromCheckpoint(checkpoint, { kvCache })
  mkdirSync(join(out, '..'), { recursive: true })
  writeFileSync(out, bytes)
  process.stdout.write(JSON.stringify({ out, format, kv_cache: kvCache, bytes: bytes.length }) + '\n')
}

/** What the model card tells: the run's config (run.json beside a trained model.safetensors), and the
 *  held-out pass@1, measured now on the CPU backend when the checkpoint names its task. */
async function modelCardInfo(path: string, ck: Checkpoint): Promise<ModelCardInfo> {
  const info: ModelCardInfo = {}
  const runJson = join(path, '..', 'run.json')
  if (path.endsWith('.safetensors') && existsSync(runJson)) {
    const run = readJson(runJson, 'run.json') as { config?: Record<string, unknown> }
    if (run.config) {
      info.runConfig = run.config
      if (typeof run.config.base_model === 'string') info.baseModel = run.config.base_model
    }
  }
  if (ck.metadata.task) {
    // the run's task options when run.json says them (a Countdown trained at its own difficulty)
    const task = taskFor({ ...(info.runConfig ?? {}), task: ck.metadata.task })
    const be = new CpuBackend('f32')
    const model = new GPT(be, ck.config)
    loadInto(model, ck)
    const n = MANIFEST_EVAL.n
    const m = await evaluateModel(model, ck.tokenizer, task, { n, k: 0, temperature: 0, maxNewTokens: task.maxCompletionLength, seed: 1 })
    info.heldOut = { passAt1: m['eval/pass@1'], problems: n }
    model.destroy()
    be.destroy()
  }
  return info
}

/** Run a command; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case 'train': await train(rest); return 0
      case 'worksheet': await worksheet(rest); return 0
      case 'pretrain': await pretrainCommand(rest); return 0
      case 'eval': await evalCommand(rest); return 0
      case 'publish': await publishCommand(rest); return 0
      case 'record': await recordCommand(rest); return 0
      case 'score': score(rest); return 0
      case 'export': await exportCommand(rest); return 0
      case 'generate': await generateCommand(rest); return 0
      case 'logits': await logitsCommand(rest); return 0
      case 'update': await updateCommand(rest); return 0
      case undefined: case '--help': case 'help': process.stdout.write(USAGE + '\n'); return cmd === undefined ? 2 : 0
      default: throw new UsageError(`${cmd}: unknown command; allowed: train, pretrain, eval, worksheet, score, export, generate, logits, update, publish, record`)
    }
  } catch (e) {
    const err = e as Error & { field?: string; key?: string }
    const invalid = e instanceof UsageError || err.field !== undefined || err.key !== undefined ||
      /^(checkpoint|tokenizer|reward_weights|hf folder):/.test(err.message)
    process.stderr.write(`grpo-lab ${cmd}: ${err.message.split('\n')[0]}\n`)
    return invalid ? 2 : 1
  }
}
