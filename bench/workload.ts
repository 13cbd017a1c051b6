// What every side of the benchmark computes: the same model shape, the same prompts and the same
// completion tokens, so that grpo-lab, TensorFlow.js and onnxruntime-web do like for like.
import { uniform } from '../src/engine/rng'
import { CharTokenizer } from '../src/model/tokenizer'
import { getTask } from '../src/tasks/registry'

/** One benchmark shape: the model and one GRPO batch of P prompts × G completions of L tokens. */
export interface Shape {
  nLayer: number
  nHead: number
  nEmbd: number
  /** P: prompts per step */
  prompts: number
  /** G: completions per prompt */
  generations: number
  /** L: tokens per completion (every completion has exactly L: the end token is never sampled) */
  completion: number
}

export interface BenchOptions {
  quick: boolean
  /** timed repetitions of grpo-lab's headline measurements (medians are reported) */
  reps: number
  /** timed repetitions of the peers' (TF.js, ORT: ~10× slower here, so fewer to fit the time) */
  peerReps: number
  /** timed repetitions of each scaling-table row */
  scalingReps: number
  headline: Shape
  /** new tokens per sequence of the rollouts without a KV cache (they cost O(L²)) */
  noCacheTokens: number
  scaling: { vary: string; shape: Shape }[]
  /** also run TF.js on every scaling row */
  scalingTfjs: boolean
  /** run the onnxruntime-web rollouts (needs src/export/onnx.ts) */
  ort: boolean
  seed: number
}

export const TASK_ID = 'addition'

export const HEADLINE: Shape = { nLayer: 2, nHead: 4, nEmbd: 64, prompts: 8, generations: 8, completion: 80 }

export function defaultOptions(quick: boolean): BenchOptions {
  if (quick) {
    const tiny: Shape = { nLayer: 1, nHead: 2, nEmbd: 16, prompts: 2, generations: 2, completion: 4 }
    return {
      quick, reps: 1, peerReps: 1, scalingReps: 1, headline: tiny, noCacheTokens: 3, scalingTfjs: true, ort: true, seed: 1,
      scaling: [{ vary: 'n_embd', shape: { ...tiny, nEmbd: 32 } }],
    }
  }
  const h = HEADLINE
  return {
    quick, reps: 3, peerReps: 2, scalingReps: 1, headline: h, noCacheTokens: 8, scalingTfjs: false, ort: true, seed: 1,
    scaling: [
      { vary: 'n_embd', shape: { ...h, nEmbd: 32 } },
      { vary: 'n_embd', shape: { ...h, nEmbd: 128 } },
      { vary: 'num_generations', shape: { ...h, generations: 4 } },
      { vary: 'num_generations', shape: { ...h, generations: 16 } },
      { vary: 'completion_length', shape: { ...h, completion: 32 } },
      { vary: 'completion_length', shape: { ...h, completion: 128 } },
    ],
  }
}

/** The prompts: problems of the addition task's train split, all of one length (the most common
 *  one among the first problems), so that every side can prefill a rectangular batch. */
export function benchPrompts(count: number, seed: number): { tokenizer: CharTokenizer; prompts: number[][]; texts: string[] } {
  const task = getTask(TASK_ID)
  const tokenizer = new CharTokenizer(task.alphabet)
  const first = Array.from({ length: 64 }, (_, i) => task.problem('train', seed, i).prompt)
  const byLength = new Map<number, number>()
  for (const p of first) byLength.set(p.length, (byLength.get(p.length) ?? 0) + 1)
  const length = [...byLength.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0]
  const texts: string[] = []
  for (let i = 0; texts.length < count; i++) {
    const p = task.problem('train', seed, i).prompt
    if (p.length === length) texts.push(p)
    if (i > 100000) throw new Error('bench: not enough prompts of one length')
  }
  return { tokenizer, prompts: texts.map((t) => tokenizer.encode(t)), texts }
}

/** The GRPO batch both trainers consume: inputs/targets shifted by one, completion mask,
 *  grpo's per-sequence weights 1/(N·|o_i|), and rewards (synthetic, so advantages are not zero). */
export interface GrpoBatch {
  P: number; G: number; N: number; T: number
  promptLength: number
  inputs: Uint32Array
  targets: Uint32Array
  mask: Float32Array
  weights: Float32Array
  rewards: Float32Array
}

export function grpoBatch(prompts: number[][], completions: number[][], G: number, seed: number): GrpoBatch {
  const N = completions.length
  const P = N / G
  const seqs = completions.map((c, i) => prompts[Math.floor(i / G)].concat(c))
  const T = Math.max(...seqs.map((s) => s.length)) - 1
  const inputs = new Uint32Array(N * T)
  const targets = new Uint32Array(N * T)
  const mask = new Float32Array(N * T)
  const weights = new Float32Array(N)
  const rewards = new Float32Array(N)
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length - 1; t++) { inputs[b * T + t] = s[t]; targets[b * T + t] = s[t + 1] }
    const p = prompts[Math.floor(b / G)].length
    for (let t = p - 1; t < p - 1 + completions[b].length; t++) mask[b * T + t] = 1
    weights[b] = 1 / (N * Math.max(1, completions[b].length)) // loss_type grpo (TRL)
    rewards[b] = uniform(seed, 77, b, 0)
  })
  return { P, G, N, T, promptLength: prompts[0].length, inputs, targets, mask, weights, rewards }
}

/** Forward FLOPs of one pass over B×T tokens (matmuls 2·m·n·k, attention QKᵀ and AV over the
 *  causal half); a training step is about 3× this. Used to say how close to compute-bound a side is. */
export function forwardFlops(s: { nLayer: number; nEmbd: number; nHead: number }, V: number, B: number, T: number): number {
  const C = s.nEmbd
  const BT = B * T
  const perLayer = 2 * BT * (3 * C * C + C * C + 4 * C * C + 4 * C * C) + 2 * 2 * B * C * (T * (T + 1)) / 2
  return s.nLayer * perLayer + 2 * BT * C * V
}

/** FLOPs of a KV-cache rollout: every sequence runs positions 0 … Lp + L − 2 one token at a time
 *  (ORT prefills the prompt in one pass: the same arithmetic). */
export function rolloutFlops(s: { nLayer: number; nEmbd: number }, V: number, N: number, Lp: number, L: number): number {
  const C = s.nEmbd
  let f = 0
  for (let pos = 0; pos < Lp + L - 1; pos++) f += N * (s.nLayer * (2 * 12 * C * C + 4 * C * (pos + 1)) + 2 * C * V)
  return f
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function log(msg: string): void {
  console.log(`[bench] ${msg}`)
}

/** A small deterministic generator for host-side sampling (ORT's rollouts). */
export function hostRng(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Sample one token per row from logits rows [rows, V] at `rowOffset + r·stride` (temperature 1). */
export function sampleHost(logits: Float32Array, rows: number, V: number, rowStart: (r: number) => number, rand: () => number): number[] {
  const out: number[] = []
  for (let r = 0; r < rows; r++) {
    const base = rowStart(r)
    let mx = -Infinity
    for (let v = 0; v < V; v++) mx = Math.max(mx, logits[base + v])
    let total = 0
    for (let v = 0; v < V; v++) total += Math.exp(logits[base + v] - mx)
    const goal = rand() * total
    let cum = 0
    let id = V - 1
    for (let v = 0; v < V; v++) { cum += Math.exp(logits[base + v] - mx); if (goal < cum) { id = v; break } }
    out.push(id)
  }
  return out
}
