// The CPU part of `npm run bench`: grpo-lab's CPU backends against PyTorch and TRL on the same
// cores, in one run, the sides taking turns. scripts/bench.mjs runs it after the WebGPU page;
// alone:
//   node --import tsx bench/cpu.ts [--quick] [--out FILE] [--reps N] [--no-trl]
//
// The lab: the reference CpuBackend (TypeScript, one thread) and the fast one (WebAssembly SIMD,
// fastCpuNode.ts, a thread per core). PyTorch (bench/python/torch_peer.py) runs the lab's model as
// transformers' GPT2LMHeadModel, loaded from the folder the lab's Hugging Face export writes, on
// the same batch, at torch.set_num_threads(the threads of the lab backend it is set against): the
// train step (forward, log-softmax gather, GRPO loss, backward, clipping, AdamW) and the rollout
// with a KV cache. TRL (bench/python/trl_peer.py) runs the whole GRPO step: the project the lab's
// TRL export writes for the bench's run, its train.py unchanged, GRPOTrainer on PyTorch's CPU.
// Each measurement warms every side up once, then runs rounds in which the sides alternate, so a
// machine whose load changes slows them alike; medians are reported.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Backend } from '../src/engine/backend'
import { CpuBackend } from '../src/engine/cpu/cpuBackend'
import { createFastCpuBackend } from '../src/engine/cpu/fastCpuNode'
import { hfFolderFiles } from '../src/export/hf'
import { trlProjectFiles } from '../src/export/trlProject'
import { type Checkpoint, checkpointOf, loadInto } from '../src/model/checkpoint'
import { GPT } from '../src/model/gpt'
import type { CharTokenizer } from '../src/model/tokenizer'
import { ADAM, benchRunConfig, freshModel, GrpoLabTrainStep, LEARNING_RATE, makeTrainer, modelConfig, rolloutKv, sampleCompletions } from './grpolab'
import { benchPython, type PeerTimed, TorchPeer, TrlPeer } from './peers'
import { type BenchOptions, benchPrompts, defaultOptions, forwardFlops, type GrpoBatch, grpoBatch, median, rolloutFlops, type Shape, TASK_ID } from './workload'

type Json = Record<string, unknown>

/** Progress on stderr: stdout is the JSON's when no --out is given. */
const log = (msg: string) => console.error(`[bench] ${msg}`)

export interface CpuBenchOptions extends Pick<BenchOptions, 'quick' | 'reps' | 'scalingReps' | 'headline' | 'scaling' | 'seed'> {
  /** run TRL's whole GRPO step (about 10 s of Python start-up per thread count) */
  trl: boolean
}

export function defaultCpuOptions(quick: boolean): CpuBenchOptions {
  const o = defaultOptions(quick)
  return { quick, reps: o.reps, scalingReps: o.scalingReps, headline: o.headline, scaling: o.scaling, seed: o.seed, trl: true }
}

/** One of the lab's CPU backends, by the name `--backend` gives it. */
interface LabCpu { name: 'reference' | 'cpu'; be: Backend; threads: number; label: string }

async function labBackends(): Promise<LabCpu[]> {
  const ref = new CpuBackend('f32')
  const fast = await createFastCpuBackend()
  return [
    { name: 'reference', be: ref, threads: 1, label: ref.describe().description },
    { name: 'cpu', be: fast, threads: fast.threads, label: fast.describe().description },
  ]
}

const threadsKey = (peer: string, n: number) => `${peer}_${n}_thread${n === 1 ? '' : 's'}`
const r1 = (x: number) => Math.round(x * 10) / 10
const r3 = (x: number) => Math.round(x * 1000) / 1000

/** One side of a measurement: `run` answers its own time (the peers measure theirs in Python). */
interface Side<T> {
  key: string
  run: () => Promise<{ ms: number; value: T }>
}
interface SideResult<T> { warmup_ms?: number; ms: number[]; median_ms: number; first: T; values: T[] }

async function clocked<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now()
  const value = await f()
  return { ms: performance.now() - t0, value }
}

const peerClocked = async (f: () => Promise<PeerTimed>) => { const r = await f(); return { ms: r.ms, value: r } }

/** Warm every side up once (unless `warmUp` is false), then `reps` rounds in which they alternate. */
async function compare<T>(sides: Side<T>[], reps: number, warmUp: boolean): Promise<Record<string, SideResult<T>>> {
  const out: Record<string, SideResult<T>> = {}
  for (const s of sides) {
    if (!warmUp) continue
    const r = await s.run()
    out[s.key] = { warmup_ms: Math.round(r.ms), ms: [], median_ms: NaN, first: r.value, values: [] }
    log(`  ${s.key}: warm-up ${r.ms.toFixed(0)} ms`)
  }
  for (let rep = 0; rep < reps; rep++) {
    for (const s of sides) {
      const r = await s.run()
      out[s.key] ??= { ms: [], median_ms: NaN, first: r.value, values: [] }
      out[s.key].ms.push(r.ms)
      out[s.key].values.push(r.value)
      log(`  ${s.key}: ${r.ms.toFixed(0)} ms`)
    }
  }
  for (const x of Object.values(out)) { x.median_ms = r1(median(x.ms)); x.ms = x.ms.map(r1) }
  return out
}

/** The thread counts torch runs at: each lab backend's, and all the cores. */
function torchThreads(labs: LabCpu[]): number[] {
  return [...new Set([...labs.map((l) => l.threads), availableParallelism()])].sort((a, b) => a - b)
}

function writeFolder(dir: string, files: Map<string, Uint8Array>): string {
  for (const [path, bytes] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), bytes)
  }
  return dir
}

/** One shape's workload on every side: the model (fresh, from the seed) in each lab backend and in
 *  torch (through the Hugging Face folder of its checkpoint), the sampled batch, the prompts. */
async function prepareShape(labs: LabCpu[], torch: TorchPeer, s: Shape, tokenizer: CharTokenizer, prompts: number[][], seed: number, dir: string) {
  const V = tokenizer.vocabSize
  const Lp = prompts[0].length
  const blockSize = Math.max(128, Lp + s.completion)
  const sp = prompts.slice(0, s.prompts)
  const first = freshModel(labs[0].be, s, V, blockSize, seed)
  const completions = await sampleCompletions(first, sp, s.generations, s.completion, seed)
  const batch = grpoBatch(sp, completions, s.generations, seed)
  const ck = await checkpointOf(first, tokenizer, { task: TASK_ID, seed: String(seed) })
  const models = labs.map((l, i) => {
    if (i === 0) return first
    const m = new GPT(l.be, modelConfig(s, V, blockSize))
    loadInto(m, ck)
    return m
  })
  const folder = writeFolder(mkdtempSync(join(dir, 'hf-')), hfFolderFiles(ck))
  const loaded = await torch.load({
    model: folder, learning_rate: LEARNING_RATE, epsilon: 0.2,
    adam: { beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps, weight_decay: ADAM.weightDecay, max_grad_norm: ADAM.maxGradNorm },
    batch: torchBatch(batch),
  })
  const rolloutPrompts = sp.flatMap((p) => Array.from({ length: s.generations }, () => p))
  return { V, Lp, batch, models, ck, loaded, rolloutPrompts }
}

function torchBatch(b: GrpoBatch): Json {
  return {
    P: b.P, G: b.G, N: b.N, T: b.T, inputs: Array.from(b.inputs), targets: Array.from(b.targets),
    mask: Array.from(b.mask), rewards: Array.from(b.rewards),
  }
}

type Prepared = Awaited<ReturnType<typeof prepareShape>>

/** Train steps: each lab backend and torch at each thread count, alternating. */
async function trainSteps(labs: LabCpu[], torch: TorchPeer, w: Prepared, reps: number, warmUp: boolean) {
  const steps = labs.map((l, i) => new GrpoLabTrainStep(l.be, w.models[i], w.batch))
  const sides: Side<number>[] = []
  labs.forEach((l, i) => sides.push({ key: l.name, run: () => clocked(() => steps[i].run()) }))
  for (const n of torchThreads(labs)) sides.push({ key: threadsKey('torch', n), run: async () => { const r = await torch.trainStep(n); return { ms: r.ms, value: Number(r.grad_norm) } } })
  try {
    return await compare(sides, reps, warmUp)
  } finally {
    steps.forEach((x) => x.destroy())
  }
}

/** KV-cache rollouts: the lab's generate() and torch's loop (and generate()), alternating. */
async function rollouts(labs: LabCpu[], torch: TorchPeer, w: Prepared, L: number, seed: number, reps: number, warmUp: boolean, withGenerate: boolean) {
  let stream = 1
  const sides: Side<boolean>[] = []
  labs.forEach((l, i) => sides.push({
    key: l.name,
    run: () => clocked(async () => (await rolloutKv(w.models[i], w.rolloutPrompts, L, seed, stream++)).every((c) => c.length === L)),
  }))
  for (const n of torchThreads(labs)) {
    sides.push({ key: threadsKey('torch', n), run: async () => { const r = await torch.rollout(n, w.rolloutPrompts, L, seed + stream++, 'loop'); return { ms: r.ms, value: r.completion_lengths_ok === true } } })
    if (withGenerate) sides.push({ key: threadsKey('torch_generate', n), run: async () => { const r = await torch.rollout(n, w.rolloutPrompts, L, seed + stream++, 'generate'); return { ms: r.ms, value: r.completion_lengths_ok === true } } })
  }
  return compare(sides, reps, warmUp)
}

/** The train-step entry of the JSON: every side's times, its GFLOP/s, and how far each lab
 *  backend's first gradient norm is from torch's (same weights, same batch). */
function describeTrain(r: Record<string, SideResult<number>>, labs: LabCpu[], flops: number) {
  const sides: Json = {}
  for (const [k, { first, values, ...x }] of Object.entries(r)) {
    sides[k] = { ...x, grad_norm_first: first, grad_norms: values, gflops: r3(flops / (x.median_ms * 1e6)) }
  }
  return { sides, grad_norm_rel_diff_vs_torch: gradNormDiffs(r, labs) }
}

/** |ours − torch's| / torch's first gradient norm: both start from the same weights and batch. */
function gradNormDiffs(r: Record<string, SideResult<number>>, labs: LabCpu[]): Json {
  const torchFirst = r[threadsKey('torch', torchThreads(labs)[0])]?.first
  const out: Json = {}
  for (const l of labs) if (r[l.name] && torchFirst !== undefined) out[l.name] = Math.abs(r[l.name].first - torchFirst) / Math.max(1e-12, Math.abs(torchFirst))
  return out
}

function describeRollout(r: Record<string, SideResult<boolean>>, tokens: number, flops: number) {
  const sides: Json = {}
  for (const [k, { first, values, ...x }] of Object.entries(r)) {
    sides[k] = { ...x, completion_lengths_ok: first && values.every(Boolean), tokens_per_s: r1(tokens / (x.median_ms / 1000)), gflops: r3(flops / (x.median_ms * 1e6)) }
  }
  return sides
}

/** torch's time / ours, for each lab backend against torch at its own thread count. */
function ratiosTime(r: Record<string, { median_ms: number }>, labs: LabCpu[], peer: string): Json {
  const out: Json = {}
  for (const l of labs) {
    const p = r[threadsKey(peer, l.threads)]
    if (r[l.name] && p) out[l.name] = r3(p.median_ms / r[l.name].median_ms)
  }
  return out
}

/** The same against the peer's fastest thread count (on a loaded machine more threads can be slower). */
function ratiosFastest(r: Record<string, { median_ms: number }>, labs: LabCpu[], peer: string): Json {
  const times = torchThreads(labs).map((n) => ({ n, ms: r[threadsKey(peer, n)]?.median_ms })).filter((x) => Number.isFinite(x.ms))
  if (!times.length) return {}
  const best = times.reduce((a, b) => (b.ms! < a.ms! ? b : a))
  const out: Json = { [`${peer}_threads`]: best.n }
  for (const l of labs) if (r[l.name]) out[l.name] = r3(best.ms! / r[l.name].median_ms)
  return out
}

/** The whole GRPO step: the lab's GRPOTrainer.trainStep on each backend, TRL's on torch at each
 *  thread count, from the same weights (the checkpoint TRL's project holds) and the same prompts. */
async function fullSteps(labs: LabCpu[], python: string, o: CpuBenchOptions, dir: string, tokenizer: CharTokenizer, errors: string[]) {
  const h = o.headline
  const config = benchRunConfig(h, o.seed)
  const be0 = labs[0].be
  const fresh = new GPT(be0, modelConfig(h, tokenizer.vocabSize, config.block_size))
  fresh.initialize(config.seed)
  const ck: Checkpoint = await checkpointOf(fresh, tokenizer, { task: TASK_ID, step: '0', seed: String(config.seed) })
  fresh.destroy()
  const project = writeFolder(join(dir, 'trl'), trlProjectFiles(config, ck, `fresh weights of seed ${config.seed}`).files)
  const steps = 1 + o.reps
  const threads = torchThreads(labs)
  log(`  TRL: starting GRPOTrainer (${project}) at ${threads.join(', ')} thread(s)`)
  const peers: TrlPeer[] = []
  try {
    // one after the other: each start-up has the cores to itself
    for (const n of threads) peers.push(await TrlPeer.start(python, project, n, steps, join(dir, `trl-out-${n}`)))
    const trainers = labs.map((l) => makeTrainer(l.be, h, o.seed, ck))
    const sides: Side<Json>[] = []
    labs.forEach((l, i) => sides.push({
      key: l.name,
      run: () => clocked(async () => ({ mean_completion_length: (await trainers[i].trainStep()).metrics['completions/mean_length'] })),
    }))
    peers.forEach((p) => sides.push({ key: threadsKey('trl', p.threads), run: () => peerClocked(() => p.step()) }))
    const r = await compare(sides, steps - 1, true)
    trainers.forEach((t) => t.destroy())
    for (const p of peers) await p.finish()
    const out: Json = {}
    labs.forEach((l) => { const { first, values, ...x } = r[l.name]; out[l.name] = { ...x, mean_completion_length: [first, ...values].map((v) => v.mean_completion_length) } })
    for (const p of peers) {
      const { first, values, ...x } = r[threadsKey('trl', p.threads)]
      // TRL's own step_time: from before generation to after backward (no clipping, no AdamW)
      out[threadsKey('trl', p.threads)] = {
        ...x, trl_step_time_ms: p.logs.map((l) => r1(Number(l.step_time) * 1000)),
        mean_completion_length: p.logs.map((l) => l['completions/mean_length']),
      }
    }
    return { sides: out, ratios: ratiosTime(r, labs, 'trl'), fastest: ratiosFastest(r, labs, 'trl'), trl: peers[0]?.versions, steps: { warmup: 1, timed: steps - 1 } }
  } catch (e) {
    peers.forEach((p) => p.kill())
    errors.push(`full GRPO step vs TRL: ${(e as Error).message}`)
    log(`ERROR ${(e as Error).message}`)
    return null
  }
}

export async function runCpuBench(o: CpuBenchOptions): Promise<Json> {
  const started = performance.now()
  const errors: string[] = []
  const loadStart = loadavg()
  const python = benchPython((line) => log(line))
  const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-bench-cpu-'))
  const labs = await labBackends()
  const torch = await TorchPeer.start(python)
  const h = o.headline
  const { tokenizer, prompts } = benchPrompts(Math.max(h.prompts, ...o.scaling.map((x) => x.shape.prompts)), o.seed)
  const result: Json = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
    backends: Object.fromEntries(labs.map((l) => [l.name, { label: l.label, threads: l.threads }])),
    torch: { ...torch.versions, threads: torchThreads(labs) },
  }
  try {
    // ---- the headline shape: train step, rollout, whole GRPO step ------------------------------
    log(`CPU: ${labs.map((l) => `${l.name} (${l.label})`).join(', ')}; torch ${torch.versions.torch} at ${torchThreads(labs).join(', ')} thread(s)`)
    const w = await prepareShape(labs, torch, h, tokenizer, prompts, o.seed, dir)
    ;(result.torch as Json).attn_implementation = w.loaded.attn_implementation
    result.headline = { ...shapeJson(h), vocab_size: w.V, prompt_length: w.Lp, positions: w.batch.T }
    const flops = 3 * forwardFlops(h, w.V, w.batch.N, w.batch.T)
    log(`CPU train step (${w.batch.N} sequences × ${w.batch.T} positions)`)
    const train = await trainSteps(labs, torch, w, o.reps, true)
    result.train_step = { tokens: w.batch.N * w.batch.T, flops, ...describeTrain(train, labs, flops), vs_torch_fastest: ratiosFastest(train, labs, 'torch') }
    result.train_step_vs_torch_cpu = ratiosTime(train, labs, 'torch')

    const N = w.rolloutPrompts.length
    log(`CPU rollout with KV cache (${N} × ${h.completion} new tokens)`)
    const roll = await rollouts(labs, torch, w, h.completion, o.seed, o.reps, true, true)
    const rflops = rolloutFlops(h, w.V, N, w.Lp, h.completion)
    result.rollout = {
      sequences: N, new_tokens: h.completion, flops: rflops, sides: describeRollout(roll, N * h.completion, rflops),
      vs_torch_fastest: ratiosFastest(Object.fromEntries(Object.entries(roll).filter(([k]) => !k.startsWith('torch_generate'))), labs, 'torch'),
    }
    result.rollout_vs_torch_cpu = ratiosTime(roll, labs, 'torch') // tokens/s ratio = time ratio (same tokens)
    w.models.forEach((m) => m.destroy())

    if (o.trl) {
      log('CPU whole GRPO step: the lab\'s GRPOTrainer against TRL\'s')
      const full = await fullSteps(labs, python, o, dir, tokenizer, errors)
      if (full) {
        result.full_grpo_step = {
          sides: full.sides, trl: full.trl, steps: full.steps, trl_all_cores: threadsKey('trl', availableParallelism()), vs_trl_fastest: full.fastest,
        }
        result.grpo_step_vs_trl_cpu = full.ratios
      }
    }

    // ---- how the cost grows: the page's scaling rows on the CPU backends and torch -------------
    const scaling: Json[] = [{ vary: 'headline', shape: shapeJson(h), train: ratioRow(train, labs), rollout: ratioRow(roll, labs) }]
    for (const row of o.scaling) {
      const s = row.shape
      log(`CPU scaling: n_embd ${s.nEmbd}, G ${s.generations}, L ${s.completion}`)
      try {
        const ws = await prepareShape(labs, torch, s, tokenizer, prompts, o.seed, dir)
        const tr = await trainSteps(labs, torch, ws, o.scalingReps, false)
        const ro = await rollouts(labs, torch, ws, s.completion, o.seed, o.scalingReps, false, false)
        ws.models.forEach((m) => m.destroy())
        scaling.push({ vary: row.vary, shape: shapeJson(s), train: ratioRow(tr, labs), rollout: ratioRow(ro, labs), grad_norm_rel_diff_vs_torch: gradNormDiffs(tr, labs) })
      } catch (e) {
        errors.push(`CPU scaling ${row.vary} ${JSON.stringify(s)}: ${(e as Error).message}`)
      }
    }
    result.scaling = scaling
    await torch.close()
  } catch (e) {
    torch.kill()
    errors.push(`CPU bench: ${(e as Error).message}`)
    log(`ERROR ${(e as Error).message}`)
  } finally {
    labs.forEach((l) => l.be.destroy())
    rmSync(dir, { recursive: true, force: true })
  }
  const load = (xs: number[]) => xs.map((x) => Math.round(x * 100) / 100)
  result.load_average = { start: load(loadStart), end: load(loadavg()) }
  result.errors = errors
  result.total_s = r1((performance.now() - started) / 1000)
  return result
}

function shapeJson(s: Shape): Json {
  return { n_layer: s.nLayer, n_head: s.nHead, n_embd: s.nEmbd, prompts_per_step: s.prompts, num_generations: s.generations, completion_length: s.completion }
}

/** A scaling row's cells: each side's median and each lab backend's ratio to torch at its threads. */
function ratioRow(r: Record<string, { median_ms: number }>, labs: LabCpu[]): Json {
  return { median_ms: Object.fromEntries(Object.entries(r).map(([k, x]) => [k, x.median_ms])), vs_torch: ratiosTime(r, labs, 'torch') }
}

function parseArgs(argv: string[]): { o: CpuBenchOptions; out: string } {
  const quick = argv.includes('--quick')
  const o = defaultCpuOptions(quick)
  let out = ''
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    if (k === '--quick') continue
    else if (k === '--no-trl') o.trl = false
    else if (k === '--out' && i + 1 < argv.length) out = resolve(argv[++i])
    else if (k === '--reps' && i + 1 < argv.length) {
      o.reps = Number(argv[++i])
      if (!Number.isInteger(o.reps) || o.reps < 1 || o.reps > 50) fail('--reps: allowed an integer from 1 to 50')
    } else fail(`unknown option ${k}; allowed: --quick, --out FILE, --reps N, --no-trl`)
  }
  return { o, out }
}

function fail(msg: string): never {
  console.error(`bench/cpu: ${msg}`)
  process.exit(2)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { o, out } = parseArgs(process.argv.slice(2))
  runCpuBench(o).then((r) => {
    const text = JSON.stringify(r, null, 2) + '\n'
    if (out) { mkdirSync(dirname(out), { recursive: true }); writeFileSync(out, text) } else process.stdout.write(text)
    process.exit((r.errors as string[]).length ? 1 : 0)
  }, (e) => { console.error(`[bench] ${(e as Error).message}`); process.exit(1) })
}
