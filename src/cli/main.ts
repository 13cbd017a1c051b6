// The `grpo-lab` command: the lab's engine headless, for runs, sweeps and checks.
//   grpo-lab train [--config FILE | --link URL] [--steps N] [--seed S] [--backend webgpu|cpu] [--out DIR]
//   grpo-lab worksheet [--backend webgpu|cpu] --input FILE
//   grpo-lab score --task ID --problem JSON --completion TEXT
// Invalid input: one line naming the field and what is allowed, exit status 2.

import { mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { adapterLabel, type Backend } from '../engine/backend'
import { CpuBackend } from '../engine/cpu/cpuBackend'
import { loadSafetensors } from '../model/checkpoint'
import { parseLink } from '../lab/link'
import { resolveRunConfig, type RunConfig } from '../rl/config'
import { GRPOTrainer } from '../rl/trainer'
import { computeWorksheet, parseWorksheetInput } from '../rl/worksheet'
import { rewardWeights, scoreCompletion } from '../rl/rewards'
import { getTask } from '../tasks/registry'

export class UsageError extends Error {}

const USAGE = `usage:
  grpo-lab train [--config FILE | --link 'URL or #fragment'] [--steps N] [--seed S] [--backend webgpu|cpu] [--out DIR]
  grpo-lab worksheet [--backend webgpu|cpu] --input FILE
  grpo-lab score --task ID --problem JSON --completion TEXT`

type Flags = Record<string, string>

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

function readJson(path: string, field: string): unknown {
  let text: string
  try { text = readFileSync(path, 'utf8') } catch (e) { throw new UsageError(`${field}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`) }
  try { return JSON.parse(text) } catch (e) { throw new UsageError(`${field}: ${path} is not valid JSON (${(e as Error).message})`) }
}

function int(flags: Flags, name: string, lo: number, hi: number): number | undefined {
  if (flags[name] === undefined) return undefined
  const v = Number(flags[name])
  if (!Number.isInteger(v) || v < lo || v > hi) throw new UsageError(`--${name}: got ${JSON.stringify(flags[name])}; allowed: an integer from ${lo} to ${hi}`)
  return v
}

async function backendOf(flags: Flags): Promise<Backend> {
  const name = flags.backend ?? 'webgpu'
  if (name === 'cpu') return new CpuBackend('f32')
  if (name !== 'webgpu') throw new UsageError(`--backend: got ${JSON.stringify(name)}; allowed: webgpu, cpu`)
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
  const flags = parseFlags(args, ['config', 'link', 'steps', 'seed', 'backend', 'out'])
  const config = runConfigFromFlags(flags)
  const task = getTask(config.task)
  let base
  if (config.base_model) {
    let bytes: Buffer
    try { bytes = readFileSync(config.base_model) } catch (e) {
      throw new UsageError(`base_model: cannot read ${config.base_model} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
    }
    base = loadSafetensors(new Uint8Array(bytes))
  }
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
  for (let s = 0; s < config.max_steps; s++) {
    const { metrics, trace } = await trainer.trainStep()
    if (config.eval_every > 0 && (trainer.step % config.eval_every === 0 || trainer.step === config.max_steps)) {
      Object.assign(metrics, await trainer.evaluate())
    }
    appendFileSync(metricsPath, JSON.stringify(metrics) + '\n')
    appendFileSync(tracesPath, JSON.stringify(trace) + '\n')
    const acc = metrics.accuracy.toFixed(3)
    process.stderr.write(`step ${trainer.step}/${config.max_steps}  reward ${metrics.reward.toFixed(3)}  accuracy ${acc}  ` +
      `length ${metrics['completions/mean_length'].toFixed(1)}  kl ${metrics.kl.toFixed(4)}  ${(metrics.step_time * 1000).toFixed(0)} ms\n`)
  }
  trainer.destroy()
  be.destroy()
}

async function worksheet(args: string[]): Promise<void> {
  const flags = parseFlags(args, ['backend', 'input'])
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

/** Run a command; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case 'train': await train(rest); return 0
      case 'worksheet': await worksheet(rest); return 0
      case 'score': score(rest); return 0
      case undefined: case '--help': case 'help': process.stdout.write(USAGE + '\n'); return cmd === undefined ? 2 : 0
      default: throw new UsageError(`${cmd}: unknown command; allowed: train, worksheet, score`)
    }
  } catch (e) {
    const err = e as Error & { field?: string; key?: string }
    const invalid = e instanceof UsageError || err.field !== undefined || err.key !== undefined ||
      /^(checkpoint|tokenizer|reward_weights):/.test(err.message)
    process.stderr.write(`grpo-lab ${cmd}: ${err.message.split('\n')[0]}\n`)
    return invalid ? 2 : 1
  }
}
