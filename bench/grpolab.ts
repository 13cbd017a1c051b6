// grpo-lab's side of the benchmark, on any of the engine's backends (the page runs WebGPU, bench/cpu.ts
// the CPU ones): the optimisation part of a GRPO step (the trainer's pieces: advantage kernel,
// forward, GRPO loss kernel, backward, AdamW), the full GRPO step (the real GRPOTrainer: rollout,
// rewards, update), and rollouts with and without the KV cache. The op profile and the dispatch
// floor are WebGPU's.
import type { Backend, Tensor } from '../src/engine/backend'
import { GRPO_STATS, view, whole } from '../src/engine/backend'
import { type Counters, countersSince } from '../src/engine/counters'
import type { WebGPUBackend } from '../src/engine/webgpu/webgpuBackend'
import { generate } from '../src/model/decode'
import { GPT } from '../src/model/gpt'
import { AdamW } from '../src/model/optimizer'
import type { Checkpoint } from '../src/model/checkpoint'
import { resolveRunConfig, type RunConfig } from '../src/rl/config'
import { GRPOTrainer } from '../src/rl/trainer'
import { getTask } from '../src/tasks/registry'
import type { GrpoBatch, Shape } from './workload'
import { TASK_ID } from './workload'

export const LEARNING_RATE = 1e-4
export const ADAM = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, maxGradNorm: 1.0 }

export interface EngineCounts {
  dispatches: number; submits: number; readbacks: number; bytes_up: number; bytes_down: number
  /** device memory held at the end, and the most held during the measured span */
  bytes_allocated: number; peak_bytes: number
}

export function engineCounts(c: Counters): EngineCounts {
  return {
    dispatches: c.dispatches, submits: c.submits, readbacks: c.readbacks, bytes_up: c.bytesUp, bytes_down: c.bytesDown,
    bytes_allocated: c.bytesAllocated, peak_bytes: c.peakBytes,
  }
}

/** Start measuring: a counters snapshot, with the peak reset to what is held now. */
export function mark(be: Backend): Counters {
  be.counters.peakBytes = be.counters.bytesAllocated
  return { ...be.counters }
}

export function modelConfig(s: Shape, vocabSize: number, blockSize: number) {
  return { vocabSize, blockSize, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd }
}

/** A freshly initialised model (GPT-2 init from the seed). */
export function freshModel(be: Backend, s: Shape, vocabSize: number, blockSize: number, seed: number): GPT {
  const m = new GPT(be, modelConfig(s, vocabSize, blockSize))
  m.initialize(seed)
  return m
}

/** G completions of exactly L tokens per prompt, sampled by the model (the end token is made
 *  unreachable so that every completion runs to L). */
export async function sampleCompletions(model: GPT, prompts: number[][], G: number, L: number, seed: number): Promise<number[][]> {
  const all = prompts.flatMap((p) => Array.from({ length: G }, () => p))
  const gen = await generate(model, { prompts: all, maxNewTokens: L, temperature: 1, seed, eosId: model.config.vocabSize })
  return gen.completions
}

/** The optimisation part of one GRPO step over a fixed batch: upload the batch, advantages,
 *  forward, GRPO loss, backward, AdamW; completion awaited by reading the gradient norm back. */
export class GrpoLabTrainStep {
  private readonly opt: AdamW
  private readonly t: Record<'tokens' | 'targets' | 'mask' | 'weights' | 'rewards' | 'advantages' | 'std' | 'zero' | 'terms' | 'stats', Tensor>

  constructor(readonly be: Backend, readonly model: GPT, readonly batch: GrpoBatch) {
    this.opt = new AdamW(model, { learningRate: LEARNING_RATE, ...ADAM })
    const { N, T, P } = batch
    const mk = (n: number, label: string, dtype: 'f32' | 'u32' = 'f32') => whole(be.createBuffer(n, dtype, label))
    this.t = {
      tokens: mk(N * T, 'bench.tokens', 'u32'), targets: mk(N * T, 'bench.targets', 'u32'), mask: mk(N * T, 'bench.mask'),
      weights: mk(N, 'bench.weights'), rewards: mk(N, 'bench.rewards'), advantages: mk(N, 'bench.adv'), std: mk(N, 'bench.std'),
      zero: mk(P, 'bench.zero_std'), terms: mk(3 * N * T, 'bench.token_terms'), stats: mk(GRPO_STATS, 'bench.stats'),
    }
  }

  /** One step; resolves with the global gradient norm (before clipping). */
  async run(): Promise<number> {
    const { be, model, batch: b, t } = this
    be.write(t.tokens, b.inputs); be.write(t.targets, b.targets); be.write(t.mask, b.mask)
    be.write(t.weights, b.weights); be.write(t.rewards, b.rewards)
    be.advantages({ rewards: t.rewards, advantages: t.advantages, std: t.std, zeroStdGroups: t.zero, numGroups: b.P, G: b.G, scale: 'group' })
    const a = model.forward(b.N, b.T, { tokens: t.tokens, targets: t.targets })
    be.grpoLoss({
      logp: a.logp, oldLogp: a.logp, refLogp: a.logp, entropy: a.entropy, mask: t.mask, advantages: t.advantages, seqOffset: 0,
      weights: t.weights, dlogp: a.dlogp, tokenTerms: t.terms, stats: t.stats, N: b.N, T: b.T,
      epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0,
    })
    model.backward(false)
    this.opt.update(LEARNING_RATE)
    const norm = await be.read(this.opt.gradNorm)
    return norm[0]
  }

  destroy(): void {
    for (const x of Object.values(this.t)) this.be.destroyBuffer(x.buffer)
    this.opt.destroy()
  }
}

/** Rollout with the KV cache: generate() — sampling on the GPU, one readback at the end. */
export async function rolloutKv(model: GPT, prompts: number[][], L: number, seed: number, stream: number): Promise<number[][]> {
  const gen = await generate(model, { prompts, maxNewTokens: L, temperature: 1, seed, stream, eosId: model.config.vocabSize })
  return gen.completions
}

/** Rollout without a cache, from GPT's public API: each position re-runs the whole forward over
 *  the sequence so far ([N, T] growing), gathers the last position's logits on the GPU, samples
 *  there, and reads the N new tokens back (the host holds the growing sequences). */
export async function rolloutNoCache(model: GPT, prompts: number[][], L: number, seed: number, stream: number): Promise<number[][]> {
  const be = model.backend
  const { vocabSize: V } = model.config
  const N = prompts.length
  const Lp = prompts[0].length
  const maxLen = Lp + L
  const bufs: Tensor[] = []
  const mk = (n: number, label: string, dtype: 'f32' | 'u32' = 'f32') => { const x = whole(be.createBuffer(n, dtype, label)); bufs.push(x); return x }
  const tokens = mk(N * maxLen, 'nocache.tokens', 'u32')
  const targets = mk(N * maxLen, 'nocache.targets', 'u32')
  const lastIdx = mk(N, 'nocache.last_index', 'u32')
  const zeros = mk(V, 'nocache.zeros')
  const last = mk(N * V, 'nocache.last_logits')
  const sampled = mk(N * 2, 'nocache.sampled', 'u32')
  const ones = mk(N, 'nocache.ones', 'u32')
  const done = mk(N, 'nocache.done', 'u32')
  be.fill(targets, 0); be.fill(zeros, 0); be.fill(done, 0)
  be.write(ones, new Array(N).fill(1))
  const seqs = prompts.map((p) => [...p])
  for (let k = 0; k < L; k++) {
    const T = Lp + k
    const flat = new Uint32Array(N * T)
    seqs.forEach((s, n) => flat.set(s, n * T))
    be.write(view(tokens.buffer, 0, N * T), flat)
    be.write(lastIdx, Array.from({ length: N }, (_, n) => n * T + T - 1))
    const a = model.forward(N, T, { tokens: view(tokens.buffer, 0, N * T), targets: view(targets.buffer, 0, N * T) })
    // a row gather: last[n, :] = logits[n·T + T − 1, :] (the embedding lookup with the logits as its table)
    be.embeddingForwardAt(last, lastIdx, a.logits, zeros, N, 1, 0, V)
    be.sample({
      tokens: sampled, logits: last, promptLens: ones, done, N, V, maxLen: 2, pos: 0, maxNew: 1 << 30,
      temperature: 1, topK: 0, eosId: V, seed, stream: stream * 4096 + k,
    })
    const got = (await be.read(sampled)) as Uint32Array
    seqs.forEach((s, n) => s.push(got[n * 2 + 1]))
  }
  bufs.forEach((x) => be.destroyBuffer(x.buffer))
  return seqs.map((s) => s.slice(Lp))
}

/** The run whose GRPO step the bench times: the default run's settings at the shape, task addition,
 *  fresh weights (the TRL peer is exported from this same configuration). */
export function benchRunConfig(s: Shape, seed: number): RunConfig {
  return resolveRunConfig({
    task: TASK_ID, base_model: '', seed, n_layer: s.nLayer, n_head: s.nHead, n_embd: s.nEmbd,
    block_size: Math.max(128, 32 + s.completion), num_generations: s.generations, prompts_per_step: s.prompts,
    max_completion_length: s.completion, learning_rate: LEARNING_RATE, eval_every: 0,
  })
}

/** The full GRPO step of the real trainer: fresh weights of the shape, or `base`'s. */
export function makeTrainer(be: Backend, s: Shape, seed: number, base?: Checkpoint): GRPOTrainer {
  return GRPOTrainer.create(be, benchRunConfig(s, seed), getTask(TASK_ID), base)
}

/** Dispatch overhead floor: `count` tiny fills (64 floats each) in one submission, awaited. */
export async function dispatchFloor(be: WebGPUBackend, count: number): Promise<{ count: number; ms: number; us_per_dispatch: number }> {
  const x = whole(be.createBuffer(64, 'f32', 'bench.floor'))
  be.fill(x, 0); await be.sync()
  const t0 = performance.now()
  for (let i = 0; i < count; i++) be.fill(x, 1) // one uniform and bind group, reused
  await be.read(x)
  const ms = performance.now() - t0
  be.destroyBuffer(x.buffer)
  return { count, ms, us_per_dispatch: (ms * 1000) / count }
}

/** The backend's ops (everything that enqueues a kernel). */
const OPS = new Set(['fill', 'copy', 'add', 'geluForward', 'geluBackward', 'matmul', 'biasGrad', 'embeddingForward',
  'embeddingBackward', 'embeddingForwardAt', 'layernormForward', 'layernormBackward', 'attentionForward', 'attentionBackward',
  'attentionDecode', 'logprobForward', 'logprobBackward', 'advantages', 'grpoLoss', 'adamw', 'sample', 'decodePositions'])

function opLabel(name: string, args: unknown[]): string {
  if (name !== 'matmul') return name
  const a = args[0] as { transA?: boolean; transB?: boolean }
  return a.transA ? 'matmul dyᵀ·x (weight grads)' : a.transB ? 'matmul x·Wᵀ (forward)' : 'matmul dy·W (input grads)'
}

/** Where the time of one optimisation step goes: the step's ops are recorded (through a proxy of
 *  the backend), then replayed one at a time, each submitted and awaited on its own. */
export async function profileTrainStep(be: WebGPUBackend, s: Shape, V: number, blockSize: number, seed: number, batch: GrpoBatch) {
  let calls: [string, unknown[]][] | null = null
  const proxy = new Proxy(be, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown
      if (typeof v !== 'function') return v
      if (typeof prop === 'string' && OPS.has(prop)) {
        return (...args: unknown[]) => { if (calls) calls.push([prop, args]); else (v as (...a: unknown[]) => unknown).apply(target, args) }
      }
      return (v as (...a: unknown[]) => unknown).bind(target)
    },
  }) as WebGPUBackend
  const model = freshModel(proxy, s, V, blockSize, seed)
  const step = new GrpoLabTrainStep(proxy, model, batch)
  await be.sync()
  calls = []
  await step.run() // uploads happen; ops are only recorded
  const recorded = calls as [string, unknown[]][]
  calls = null
  const byOp = new Map<string, { op: string; calls: number; ms: number }>()
  let total = 0
  for (const [name, args] of recorded) {
    const t0 = performance.now()
    ;(be as unknown as Record<string, (...a: unknown[]) => void>)[name](...args)
    await be.sync()
    const ms = performance.now() - t0
    total += ms
    const label = opLabel(name, args)
    const e = byOp.get(label) ?? { op: label, calls: 0, ms: 0 }
    e.calls++; e.ms += ms
    byOp.set(label, e)
  }
  step.destroy()
  model.destroy()
  const ops = [...byOp.values()].sort((a, b) => b.ms - a.ms)
    .map((e) => ({ ...e, ms: Math.round(e.ms * 10) / 10, share: Math.round((e.ms / total) * 1000) / 1000 }))
  return { total_ms: Math.round(total), dispatching_ops: recorded.length, ops }
}

export { countersSince }
