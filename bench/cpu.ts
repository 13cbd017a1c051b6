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
//
// PyTorch's many-thread runs go twice: with OpenMP's default wait policy (its threads spin at the
// end of each parallel region) and with OMP_WAIT_POLICY=PASSIVE (they sleep). On a machine shared
// with other work the spinning threads wait on threads that are not scheduled, and a rollout of
// thousands of small ops can take ten times longer than on one thread; each lab backend is set
// against the faster of the two, so the ratio is against PyTorch at its best on those cores.
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

/** How a peer runs: its threads, and whether OpenMP's idle threads sleep (PASSIVE) or spin. */
interface PeerSetting { threads: number; passive: boolean }
const settingKey = (peer: string, s: PeerSetting) => threadsKey(peer, s.threads) + (s.passive ? '_passive' : '')
const PASSIVE_ENV = { OMP_WAIT_POLICY: 'PASSIVE' }

/** The peers' settings: each lab backend's thread count and all the cores, the many-thread ones
 *  with each wait policy (one thread has nothing to wait for). */
function peerSettings(labs: LabCpu[]): PeerSetting[] {
  const threads = [...new Set([...labs.map((l) => l.threads), availableParallelism()])].sort((a, b) => a - b)
  return threads.flatMap((n) => (n === 1 ? [{ threads: n, passive: false }] : [{ threads: n, passive: false }, { threads: n, passive: true }]))
}

/** One torch process per wait policy (it is read when OpenMP starts); threads are set per command. */
interface TorchPeers { spin: TorchPeer; passive: TorchPeer | null }
const torchOf = (t: TorchPeers, s: PeerSetting) => (s.passive ? t.passive! : t.spin)
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

function writeFolder(dir: string, files: Map<string, Uint8Array>): string {
  for (const [path, bytes] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), bytes)
  }
  return dir
}

/** One shape's workload on every side: the model (fresh, from the seed) in each lab backend and in
 *  torch (through the Hugging Face folder of its checkpoint), the sampled batch, the prompts. */
async function prepareShape(labs: LabCpu[], torch: TorchPeers, s: Shape, tokenizer: CharTokenizer, prompts: number[][], seed: number, dir: string) {
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
  const load = {
    model: folder, learning_rate: LEARNING_RATE, epsilon: 0.2,
    adam: { beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps, weight_decay: ADAM.weightDecay, max_grad_norm: ADAM.maxGradNorm },
    batch: torchBatch(batch),
  }
  const loaded = await torch.spin.load(load)
  if (torch.passive) await torch.passive.load(load)
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

/** Train steps: each lab backend and torch in each setting, alternating. */
async function trainSteps(labs: LabCpu[], torch: TorchPeers, w: Prepared, reps: number, warmUp: boolean) {
  const steps = labs.map((l, i) => new GrpoLabTrainStep(l.be, w.models[i], w.batch))
  const sides: Side<number>[] = []
  labs.forEach((l, i) => sides.push({ key: l.name, run: () => clocked(() => steps[i].run()) }))
  for (const st of peerSettings(labs)) {
    sides.push({ key: settingKey('torch', st), run: async () => { const r = await torchOf(torch, st).trainStep(st.threads); return { ms: r.ms, value: Number(r.grad_norm) } } })
  }
  try {
    return await compare(sides, reps, warmUp)
  } finally {
    steps.forEach((x) => x.destroy())
  }
}

/** KV-cache rollouts: the lab's generate() and torch's loop (and generate()), alternating. */
async function rollouts(labs: LabCpu[], torch: TorchPeers, w: Prepared, L: number, seed: number, reps: number, warmUp: boolean, withGenerate: boolean) {
  let stream = 1
  const sides: Side<boolean>[] = []
  labs.forEach((l, i) => sides.push({
    key: l.name,
    run: () => clocked(async () => (await rolloutKv(w.models[i], w.rolloutPrompts, L, seed, stream++)).every((c) => c.length === L)),
  }))
  for (const st of peerSettings(labs)) {
    const peer = torchOf(torch, st)
    const run = (mode: 'loop' | 'generate') => async () => {
      const r = await peer.rollout(st.threads, w.rolloutPrompts, L, seed + stream++, mode)
      return { ms: r.ms, value: r.completion_lengths_ok === true }
    }
    sides.push({ key: settingKey('torch', st), run: run('loop') })
    if (withGenerate) sides.push({ key: settingKey('torch_generate', st), run: run('generate') })
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
  const torchFirst = r[settingKey('torch', peerSettings(labs)[0])]?.first
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

/** The fastest of the peer's settings that `keep` admits: its key, or undefined. */
function fastestSetting(r: Record<string, { median_ms: number }>, labs: LabCpu[], peer: string, keep: (s: PeerSetting) => boolean): string | undefined {
  const keys = peerSettings(labs).filter(keep).map((s) => settingKey(peer, s)).filter((k) => Number.isFinite(r[k]?.median_ms))
  return keys.length ? keys.reduce((a, b) => (r[b].median_ms < r[a].median_ms ? b : a)) : undefined
}

/** The peer's time / ours for each lab backend, against the peer on as many threads (its faster
 *  wait policy); `against` names the peer setting each ratio is against. */
function ratiosTime(r: Record<string, { median_ms: number }>, labs: LabCpu[], peer: string): { ratios: Json; against: Json } {
  const ratios: Json = {}
  const against: Json = {}
  for (const l of labs) {
    const k = fastestSetting(r, labs, peer, (s) => s.threads === l.threads)
    if (r[l.name] && k) { ratios[l.name] = r3(r[k].median_ms / r[l.name].median_ms); against[l.name] = k }
  }
  return { ratios, against }
}

/** The same against the peer's fastest setting of all (on a loaded machine more threads can be slower). */
function ratiosFastest(r: Record<string, { median_ms: number }>, labs: LabCpu[], peer: string): Json {
  const k = fastestSetting(r, labs, peer, () => true)
  if (!k) return {}
  const out: Json = { against: k }
  for (const l of labs) if (r[l.name]) out[l.name] = r3(r[k].median_ms / r[l.name].median_ms)
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
  const settings = peerSettings(labs)
  log(`  TRL: starting GRPOTrainer (${project}): ${settings.map((st) => settingKey('trl', st)).join(', ')}`)
  const peers: { key: string; peer: TrlPeer }[] = []
  try {
    // one after the other: each start-up has the cores to itself
    for (const st of settings) {
      const key = settingKey('trl', st)
      peers.push({ key, peer: await TrlPeer.start(python, project, st.threads, steps, join(dir, key), st.passive ? PASSIVE_ENV : {}) })
    }
    const trainers = labs.map((l) => makeTrainer(l.be, h, o.seed, ck))
    const sides: Side<Json>[] = []
    labs.forEach((l, i) => sides.push({
      key: l.name,
      run: () => clocked(async () => ({ mean_completion_length: (await trainers[i].trainStep()).metrics['completions/mean_length'] })),
    }))
    peers.forEach(({ key, peer }) => sides.push({ key, run: () => peerClocked(() => peer.step()) }))
    const r = await compare(sides, steps - 1, true)
    trainers.forEach((t) => t.destroy())
    for (const { peer } of peers) await peer.finish()
    const out: Json = {}
    labs.forEach((l) => { const { first, values, ...x } = r[l.name]; out[l.name] = { ...x, mean_completion_length: [first, ...values].map((v) => v.mean_completion_length) } })
    for (const { key, peer } of peers) {
      const { first, values, ...x } = r[key]
      // TRL's own step_time: from before generation to after backward (no clipping, no AdamW)
      out[key] = {
        ...x, trl_step_time_ms: peer.logs.map((l) => r1(Number(l.step_time) * 1000)),
        mean_completion_length: peer.logs.map((l) => l['completions/mean_length']),
      }
    }
    const allCores = fastestSetting(r, labs, 'trl', (st) => st.threads === availableParallelism())
    return {
      sides: out, ...ratiosTime(r, labs, 'trl'), fastest: ratiosFastest(r, labs, 'trl'), allCores,
      trl: peers[0]?.peer.versions, steps: { warmup: 1, timed: steps - 1 },
    }
  } catch (e) {
    peers.forEach(({ peer }) => peer.kill())
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
  const settings = peerSettings(labs)
  const torch: TorchPeers = {
    spin: await TorchPeer.start(python, {}),
    passive: settings.some((st) => st.passive) ? await TorchPeer.start(python, PASSIVE_ENV) : null,
  }
  const h = o.headline
  const { tokenizer, prompts } = benchPrompts(Math.max(h.prompts, ...o.scaling.map((x) => x.shape.prompts)), o.seed)
  const result: Json = {
    machine: { cores: availableParallelism(), cpu: cpus()[0]?.model, node: process.version },
    backends: Object.fromEntries(labs.map((l) => [l.name, { label: l.label, threads: l.threads }])),
    torch: { ...torch.spin.versions, settings: settings.map((st) => settingKey('torch', st)) },
  }
  try {
    // ---- the headline shape: train step, rollout, whole GRPO step ------------------------------
    log(`CPU: ${labs.map((l) => `${l.name} (${l.label})`).join(', ')}; torch ${torch.spin.versions.torch}: ${settings.map((st) => settingKey('torch', st)).join(', ')}`)
    const w = await prepareShape(labs, torch, h, tokenizer, prompts, o.seed, dir)
    ;(result.torch as Json).attn_implementation = w.loaded.attn_implementation
    result.headline = { ...shapeJson(h), vocab_size: w.V, prompt_length: w.Lp, positions: w.batch.T }
    const flops = 3 * forwardFlops(h, w.V, w.batch.N, w.batch.T)
    log(`CPU train step (${w.batch.N} sequences × ${w.batch.T} positions)`)
    const train = await trainSteps(labs, torch, w, o.reps, true)
    const trainVs = ratiosTime(train, labs, 'torch')
    result.train_step = {
      tokens: w.batch.N * w.batch.T, flops, ...describeTrain(train, labs, flops), vs_torch_against: trainVs.against,
      vs_torch_fastest: ratiosFastest(train, labs, 'torch'),
    }
    result.train_step_vs_torch_cpu = trainVs.ratios

    const N = w.rolloutPrompts.length
    log(`CPU rollout with KV cache (${N} × ${h.completion} new tokens)`)
    const roll = await rollouts(labs, torch, w, h.completion, o.seed, o.reps, true, true)
    const rflops = rolloutFlops(h, w.V, N, w.Lp, h.completion)
    const rollVs = ratiosTime(roll, labs, 'torch') // tokens/s ratio = time ratio (same tokens)
    result.rollout = {
      sequences: N, new_tokens: h.completion, flops: rflops, sides: describeRollout(roll, N * h.completion, rflops),
      vs_torch_against: rollVs.against, vs_torch_fastest: ratiosFastest(roll, labs, 'torch'),
    }
    result.rollout_vs_torch_cpu = rollVs.ratios
    w.models.forEach((m) => m.destroy())

    if (o.trl) {
      log('CPU whole GRPO step: the lab\'s GRPOTrainer against TRL\'s')
      const full = await fullSteps(labs, python, o, dir, tokenizer, errors)
      if (full) {
        result.full_grpo_step = {
          sides: full.sides, trl: full.trl, steps: full.steps, trl_all_cores: full.allCores, vs_trl_against: full.against, vs_trl_fastest: full.fastest,
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
    await torch.spin.close()
    await torch.passive?.close()
  } catch (e) {
    torch.spin.kill()
    torch.passive?.kill()
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

/** A scaling row's cells: each side's median and each lab backend's ratio to torch on its threads. */
function ratioRow(r: Record<string, { median_ms: number }>, labs: LabCpu[]): Json {
  const { ratios, against } = ratiosTime(r, labs, 'torch')
  return { median_ms: Object.fromEntries(Object.entries(r).map(([k, x]) => [k, x.median_ms])), vs_torch: ratios, vs_torch_against: against }
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
