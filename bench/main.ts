// The benchmark page: grpo-lab against TensorFlow.js (a GRPO training step) and onnxruntime-web
// (rollout generation), both on WebGPU, side by side in one page on whatever adapter is present.
// scripts/bench.mjs builds and serves this page, calls window.__bench(options) through
// Playwright and writes what it resolves with to bench/results/latest.json.
import { adapterLabel } from '../src/engine/backend'
import { countersSince } from '../src/engine/counters'
import { shaderSources } from '../src/engine/browser'
import { createWebGPUBackend } from '../src/engine/webgpu/device'
import type { WebGPUBackend } from '../src/engine/webgpu/webgpuBackend'
import type { GPT } from '../src/model/gpt'
import { adapterCapabilities } from './adapter'
import { type GpuApiCounts, gpuApiSince, gpuApiSnapshot, installGpuApiCounters, knownDevices, resetGpuApiPeak } from './gpuapi'
import {
  dispatchFloor, type EngineCounts, profileTrainStep, engineCounts, freshModel, GrpoLabTrainStep, makeTrainer, mark, rolloutKv, rolloutNoCache,
  sampleCompletions,
} from './grpolab'
import { type BenchOptions, benchPrompts, defaultOptions, forwardFlops, grpoBatch, log, median, rolloutFlops, type Shape } from './workload'

installGpuApiCounters()

type Json = Record<string, unknown>

interface Timed { ms: number[]; median_ms: number }
const timed = (ms: number[]): Timed => ({ ms: ms.map((x) => Math.round(x * 10) / 10), median_ms: Math.round(median(ms) * 10) / 10 })

async function clock<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now()
  const value = await f()
  return { ms: performance.now() - t0, value }
}

function shapeJson(s: Shape, V: number, promptLength: number) {
  return {
    n_layer: s.nLayer, n_head: s.nHead, n_embd: s.nEmbd, vocab_size: V, prompts_per_step: s.prompts,
    num_generations: s.generations, completions: s.prompts * s.generations, completion_length: s.completion,
    prompt_length: promptLength, sequence_length: promptLength + s.completion - 1,
  }
}

const blockFor = (s: Shape, promptLength: number) => Math.max(128, promptLength + s.completion)

/** One side's measurement of a repeated function, with its counters from the last repetition. */
interface Side<T> {
  name: string
  /** timed repetitions of this side (default: compare's) */
  reps?: number
  run: () => Promise<T>
  device: () => GPUDevice | undefined
  engine?: WebGPUBackend
}
interface SideResult<T> extends Timed {
  warmup_ms: number
  first: T
  gpu_api: GpuApiCounts
  engine?: EngineCounts
}

/** Warm-up each side once (unless `warmUp` is false: pipelines already compiled), then rounds in
 *  which the sides alternate (a side with fewer `reps` sits the later rounds out). */
async function compare<T>(sides: Side<T>[], reps: number, warmUp = true): Promise<SideResult<T>[]> {
  const out: SideResult<T>[] = []
  for (const s of sides) {
    if (!warmUp) { out.push({ warmup_ms: 0, first: undefined as T, ms: [], median_ms: NaN, gpu_api: gpuApiSnapshot() }); continue }
    log(`  ${s.name}: warm-up`)
    const r = await clock(s.run)
    out.push({ warmup_ms: Math.round(r.ms), first: r.value, ms: [], median_ms: NaN, gpu_api: gpuApiSnapshot(s.device()) })
  }
  const rounds = Math.max(...sides.map((s) => s.reps ?? reps))
  for (let rep = 0; rep < rounds; rep++) {
    for (let i = 0; i < sides.length; i++) {
      const s = sides[i]
      if (rep >= (s.reps ?? reps)) continue
      const dev = s.device()
      if (dev) resetGpuApiPeak(dev)
      const before = gpuApiSnapshot(dev)
      const eBefore = s.engine ? mark(s.engine) : null
      const r = await clock(s.run)
      if (!warmUp && rep === 0) out[i].first = r.value
      out[i].ms.push(r.ms)
      out[i].gpu_api = gpuApiSince(gpuApiSnapshot(dev), before)
      if (s.engine && eBefore) out[i].engine = engineCounts(countersSince(s.engine.counters, eBefore))
      log(`  ${s.name}: ${r.ms.toFixed(0)} ms`)
    }
  }
  for (const o of out) Object.assign(o, timed(o.ms))
  return out
}

async function errorAs<T>(label: string, errors: string[], f: () => Promise<T>): Promise<T | null> {
  try {
    return await f()
  } catch (e) {
    const msg = `${label}: ${(e as Error)?.message ?? String(e)}`
    log(`ERROR ${msg}`)
    errors.push(msg)
    return null
  }
}

async function run(partial: Partial<BenchOptions> & { quick?: boolean } = {}): Promise<Json> {
  const started = performance.now()
  const o: BenchOptions = { ...defaultOptions(!!partial.quick), ...partial }
  const errors: string[] = []
  const be = await createWebGPUBackend(navigator.gpu, shaderSources, 'start Chromium with --enable-unsafe-webgpu') as WebGPUBackend
  const adapterDesc = be.describe()
  log(`adapter: ${adapterLabel(adapterDesc)}`)
  const ours = () => be.device
  const h = o.headline
  const { tokenizer, prompts } = benchPrompts(Math.max(h.prompts, ...o.scaling.map((x) => x.shape.prompts)), o.seed)
  const V = tokenizer.vocabSize
  const Lp = prompts[0].length
  const result: Json = {
    adapter: { vendor: adapterDesc.vendor, architecture: adapterDesc.architecture, device: adapterDesc.device, description: adapterDesc.description, label: adapterLabel(adapterDesc) },
    user_agent: navigator.userAgent,
    date: new Date().toISOString(),
    quick: o.quick,
    options: { reps: o.reps, peer_reps: o.peerReps, scaling_reps: o.scalingReps, no_cache_tokens: o.noCacheTokens, seed: o.seed },
    headline: shapeJson(h, V, Lp),
  }
  result.adapter_capabilities = await adapterCapabilities(navigator.gpu, be.device)

  // ---- dispatch overhead floor of this adapter (what a dispatch costs when it does nothing) ----
  await dispatchFloor(be, 64)
  const floor = await dispatchFloor(be, 2000)
  result.dispatch_floor = { ...floor, ms: Math.round(floor.ms * 10) / 10, us_per_dispatch: Math.round(floor.us_per_dispatch * 100) / 100 }
  log(`dispatch floor: ${floor.us_per_dispatch.toFixed(1)} µs per dispatch`)

  // ---- 1. the optimisation part of a GRPO step: grpo-lab vs TensorFlow.js ----------------------
  log(`train step (forward, backward, AdamW over ${h.prompts}×${h.generations} completions of ${h.completion} tokens)`)
  const hp = prompts.slice(0, h.prompts)
  const trainModel = freshModel(be, h, V, blockFor(h, Lp), o.seed)
  const completions = await sampleCompletions(trainModel, hp, h.generations, h.completion, o.seed)
  const batch = grpoBatch(hp, completions, h.generations, o.seed)
  const flat = await trainModel.readFlat()
  const ourStep = new GrpoLabTrainStep(be, trainModel, batch)
  const flops = 3 * forwardFlops(h, V, batch.N, batch.T)
  const tf = await errorAs('tfjs', errors, async () => {
    const m = await import('./tfjs')
    const info = await m.initTfjs()
    return { m, info, step: new m.TfjsGrpoStep(h, V, trainModel.layout, flat, batch) }
  })
  const sides: Side<number>[] = [{ name: 'grpo-lab', run: () => ourStep.run(), device: ours, engine: be }]
  if (tf) sides.push({ name: 'tfjs', reps: o.peerReps, run: () => tf.step.run(), device: () => tf.info.device })
  const train = await errorAs('train step', errors, () => compare(sides, o.reps))
  if (train) {
    const [g, t] = train
    const gflops = (r: SideResult<number>) => Math.round((flops / (r.median_ms * 1e6)) * 1000) / 1000
    result.train_step = {
      tokens: batch.N * batch.T, flops,
      grpo_lab: { ...g, grad_norm_first: g.first, gflops: gflops(g) },
      ...(t ? {
        tfjs: {
          ...t, grad_norm_first: t.first, gflops: gflops(t), version: tf?.info.version, memory: tf?.m.tfjsMemory(),
          optimizer: 'tf.train.adam(lr 1e-4, β1 0.9, β2 0.99, ε 1e-8) after global-norm clipping at 1.0; no weight decay (the default run has weight_decay 0, so grpo-lab\'s AdamW is the same update)',
        },
        grad_norm_rel_diff: Math.abs(g.first - t.first) / Math.max(1e-12, Math.abs(g.first)),
      } : {}),
    }
    if (t) result.train_step_ratio_vs_tfjs = Math.round((t.median_ms / g.median_ms) * 1000) / 1000
  }
  ourStep.destroy()
  tf?.step.destroy()
  await errorAs('train step profile', errors, async () => {
    log('  grpo-lab: one step op by op (each op submitted and awaited alone)')
    const profile = await profileTrainStep(be, h, V, blockFor(h, Lp), o.seed, batch)
    if (result.train_step) ((result.train_step as Json).grpo_lab as Json).profile = profile
    log(`  ${profile.ops.slice(0, 4).map((x) => `${x.op} ${(x.share * 100).toFixed(0)}%`).join(', ')}`)
  })

  // ---- 2. the full GRPO step of the real trainer (rollout + rewards + update) --------------------
  log('full GRPO step (GRPOTrainer.trainStep: rollout, rewards, advantages, update)')
  trainModel.destroy()
  await errorAs('full step', errors, async () => {
    const trainer = makeTrainer(be, h, o.seed)
    const steps: Json[] = []
    const ms: number[] = []
    const reps = Math.max(1, o.reps - 1)
    for (let i = 0; i <= reps; i++) {
      const before = mark(be)
      const r = await clock(() => trainer.trainStep())
      const c = engineCounts(countersSince(be.counters, before))
      const m = r.value.metrics
      if (i > 0) ms.push(r.ms)
      steps.push({ warmup: i === 0, ms: Math.round(r.ms), ...c, mean_completion_length: m['completions/mean_length'], reward: m.reward })
      log(`  step ${i}${i === 0 ? ' (warm-up)' : ''}: ${r.ms.toFixed(0)} ms, ${c.dispatches} dispatches, ${c.readbacks} readbacks`)
    }
    trainer.destroy()
    result.full_grpo_step = { ...timed(ms), steps }
  })

  // ---- 3. rollout: grpo-lab generate() vs onnxruntime-web, with and without a KV cache ----------
  const N = h.prompts * h.generations
  const rolloutPrompts = hp.flatMap((p) => Array.from({ length: h.generations }, () => p))
  const rollModel = freshModel(be, h, V, blockFor(h, Lp), o.seed)
  const ortKv = o.ort ? await errorAs('onnxruntime-web (KV cache)', errors, () => makeOrt(rollModel, true, h, V)) : null
  const ortFull = o.ort ? await errorAs('onnxruntime-web (no cache)', errors, () => makeOrt(rollModel, false, h, V)) : null
  const rollout: Json = {}
  const readbacksPerToken: Json = {}
  for (const [mode, L, reps, peerReps] of [['kv_cache', h.completion, o.reps, o.peerReps], ['no_cache', o.noCacheTokens, 1, 1]] as const) {
    log(`rollout ${mode}: ${N} sequences × ${L} new tokens after ${Lp} prompt tokens`)
    let stream = 1
    const sidesR: Side<number[][]>[] = [{
      name: 'grpo-lab', device: ours, engine: be,
      run: () => (mode === 'kv_cache' ? rolloutKv : rolloutNoCache)(rollModel, rolloutPrompts, L, o.seed, stream++),
    }]
    const ortModel = mode === 'kv_cache' ? ortKv : ortFull
    if (ortModel) sidesR.push({ name: 'onnxruntime-web', reps: peerReps, device: () => ortModel.device, run: () => ortModel.m.ortRollout(ortModel.model, rolloutPrompts, L, o.seed + stream++) })
    const r = await errorAs(`rollout ${mode}`, errors, () => compare(sidesR, reps))
    if (!r) continue
    const tokens = N * L
    const rflops = mode === 'kv_cache' ? rolloutFlops(h, V, N, Lp, L) : NaN
    const describe = (x: SideResult<number[][]>) => {
      const { first, ...rest } = x
      const readbacks = x.engine ? x.engine.readbacks : x.gpu_api.readbacks
      return {
        ...rest, tokens, tokens_per_s: Math.round((tokens / (x.median_ms / 1000)) * 10) / 10,
        ...(mode === 'kv_cache' ? { flops: rflops, gflops: Math.round((rflops / (x.median_ms * 1e6)) * 1000) / 1000 } : {}),
        decode_steps: mode === 'kv_cache' && x === r[0] ? Lp + L - 1 : L,
        readbacks_per_token: readbacks / tokens,
        readbacks_per_position: readbacks / L,
        completion_lengths_ok: first.every((c) => c.length === L),
      }
    }
    const entry: Json = { new_tokens: L, sequences: N, grpo_lab: describe(r[0]) }
    if (r[1]) {
      entry.onnxruntime_web = describe(r[1])
      entry.ratio_tokens_per_s = Math.round(((entry.grpo_lab as { tokens_per_s: number }).tokens_per_s /
        (entry.onnxruntime_web as { tokens_per_s: number }).tokens_per_s) * 1000) / 1000
    }
    rollout[mode] = entry
    readbacksPerToken[`grpo_lab_${mode}`] = (entry.grpo_lab as { readbacks_per_token: number }).readbacks_per_token
    if (entry.onnxruntime_web) readbacksPerToken[`ort_${mode}`] = (entry.onnxruntime_web as { readbacks_per_token: number }).readbacks_per_token
  }
  rollModel.destroy()
  result.rollout = rollout
  const kvRatio = (rollout.kv_cache as Json | undefined)?.ratio_tokens_per_s
  if (typeof kvRatio === 'number') result.rollout_ratio_vs_ort = kvRatio
  const ncRatio = (rollout.no_cache as Json | undefined)?.ratio_tokens_per_s
  if (typeof ncRatio === 'number') result.rollout_ratio_vs_ort_no_cache = ncRatio
  result.readbacks_per_token = readbacksPerToken

  // ---- 4. how the cost grows: width, group size, completion length ------------------------------
  const scaling: Json[] = []
  const rows: { vary: string; shape: Shape }[] = [{ vary: 'headline', shape: h }, ...o.scaling]
  for (const row of rows) {
    const s = row.shape
    const label = `n_embd ${s.nEmbd}, G ${s.generations}, L ${s.completion}`
    if (row.vary === 'headline') {
      // the headline's numbers, measured above
      const ts = result.train_step as Json | undefined
      const g = ts?.grpo_lab as { median_ms: number; engine?: EngineCounts } | undefined
      const kv = (rollout.kv_cache as Json | undefined)?.grpo_lab as { tokens_per_s: number; engine?: EngineCounts; median_ms: number } | undefined
      scaling.push({
        vary: 'headline', ...shapeJson(s, V, Lp), train_ms: g?.median_ms, train_dispatches: g?.engine?.dispatches,
        train_peak_bytes: g?.engine?.peak_bytes, tfjs_train_ms: (ts?.tfjs as Timed | undefined)?.median_ms,
        rollout_ms: kv?.median_ms, rollout_tokens_per_s: kv?.tokens_per_s, rollout_dispatches: kv?.engine?.dispatches,
        rollout_peak_bytes: kv?.engine?.peak_bytes,
      })
      continue
    }
    log(`scaling: ${label}`)
    await errorAs(`scaling ${label}`, errors, async () => {
      const sp = prompts.slice(0, s.prompts)
      const model = freshModel(be, s, V, blockFor(s, Lp), o.seed)
      const comp = await sampleCompletions(model, sp, s.generations, s.completion, o.seed)
      const b = grpoBatch(sp, comp, s.generations, o.seed)
      const step = new GrpoLabTrainStep(be, model, b)
      const sidesS: Side<number>[] = [{ name: 'grpo-lab', run: () => step.run(), device: ours, engine: be }]
      let tfStep: { run: () => Promise<number>; destroy: () => void } | null = null
      if (o.scalingTfjs && tf) {
        tfStep = new tf.m.TfjsGrpoStep(s, V, model.layout, await model.readFlat(), b)
        sidesS.push({ name: 'tfjs', run: () => tfStep!.run(), device: () => tf.info.device })
      }
      const tr = await compare(sidesS, o.scalingReps, false)
      step.destroy()
      tfStep?.destroy()
      const rp = sp.flatMap((p) => Array.from({ length: s.generations }, () => p))
      let stream = 100
      const ro = await compare([{ name: 'grpo-lab rollout', device: ours, engine: be, run: () => rolloutKv(model, rp, s.completion, o.seed, stream++) }], o.scalingReps, false)
      model.destroy()
      const tokens = rp.length * s.completion
      scaling.push({
        vary: row.vary, ...shapeJson(s, V, Lp), train_ms: tr[0].median_ms, train_dispatches: tr[0].engine?.dispatches,
        train_peak_bytes: tr[0].engine?.peak_bytes, tfjs_train_ms: tr[1]?.median_ms,
        rollout_ms: ro[0].median_ms, rollout_tokens_per_s: Math.round((tokens / (ro[0].median_ms / 1000)) * 10) / 10,
        rollout_dispatches: ro[0].engine?.dispatches, rollout_peak_bytes: ro[0].engine?.peak_bytes,
      })
    })
  }
  result.scaling = scaling
  result.errors = errors
  result.total_s = Math.round((performance.now() - started) / 100) / 10
  be.destroy()
  return result
}

async function makeOrt(model: GPT, kv: boolean, h: Shape, V: number) {
  const [m, onnx] = await Promise.all([import('./ort'), import('../src/export/onnx')])
  const bytes = await onnx.exportGptOnnx(model, { kvCache: kv })
  const seen = new Set(knownDevices())
  const ortModel = await m.createOrtSession(bytes, kv, { nLayer: h.nLayer, nHead: h.nHead, nEmbd: h.nEmbd, vocab: V })
  const device = m.ortDevice() ?? knownDevices().find((d) => !seen.has(d))
  return { m, model: ortModel, device, onnx_bytes: bytes.length }
}

declare global {
  interface Window { __bench: typeof run; __benchReady: boolean }
}
window.__bench = run
window.__benchReady = true
log('page ready')
