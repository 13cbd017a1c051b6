// The one interface the model and GRPO code are written against. Three implementations:
// WebGPU (WGSL kernels from shaders/), the reference CPU backend (plain TypeScript, the twin the
// others are checked against) and the fast CPU backend (WebAssembly SIMD on threads, cpu/fastCpuBackend.ts).
//
// Every op works on Tensors: a view (offset, length, both in elements) into a backend buffer.
// Ops are enqueued in program order; on WebGPU nothing is read back until `read` is called.
// Matrices are row-major. Linear layers follow llm.c: weight [out, in], y = x · Wᵀ + b.

import type { Counters } from './counters'

export type DType = 'f32' | 'u32'

/** A backend-owned block of memory. Opaque to callers except for its size and dtype. */
export interface Buffer {
  readonly id: number
  readonly dtype: DType
  readonly length: number // elements
  readonly label: string
}

/** A contiguous view into a Buffer. On WebGPU the byte offset must be 256-aligned. */
export interface Tensor {
  readonly buffer: Buffer
  readonly offset: number // elements
  readonly length: number // elements
}

export function view(buffer: Buffer, offset = 0, length = buffer.length - offset): Tensor {
  if (offset < 0 || length < 0 || offset + length > buffer.length) {
    throw new RangeError(`view [${offset}, ${offset + length}) is outside buffer '${buffer.label}' of ${buffer.length}`)
  }
  return { buffer, offset, length }
}

export function whole(buffer: Buffer): Tensor {
  return { buffer, offset: 0, length: buffer.length }
}

export interface AdapterDescription {
  backend: 'webgpu' | 'cpu'
  vendor: string
  architecture: string
  device: string
  description: string
}

/** One line naming the adapter, for the page and for run records. */
export function adapterLabel(d: AdapterDescription): string {
  if (d.backend === 'cpu') return d.description
  const parts = [d.vendor, d.architecture, d.device, d.description].filter((s) => s && s.length > 0)
  return `WebGPU: ${parts.join(' · ') || 'unknown adapter'}`
}

/** out[M,N] = op(a)[M,K] · op(b)[K,N] (+ bias[N]) (+ out when accumulate). */
export interface MatmulArgs {
  out: Tensor; a: Tensor; b: Tensor; bias?: Tensor
  M: number; N: number; K: number
  /** a is stored [K,M] instead of [M,K] */
  transA?: boolean
  /** b is stored [N,K] instead of [K,N] (a linear layer's weight) */
  transB?: boolean
  accumulate?: boolean
}

export interface SampleArgs {
  /** [N, maxLen] token ids; prompt tokens are already in place and are never overwritten */
  tokens: Tensor
  /** [N, V] logits of position `pos` */
  logits: Tensor
  /** [N] prompt lengths */
  promptLens: Tensor
  /** [N] 0 while generating, 1 once the end token was sampled */
  done: Tensor
  N: number; V: number; maxLen: number
  /** position whose logits these are; the sampled token goes to pos + 1 */
  pos: number
  /** a sequence samples at most this many tokens after its prompt */
  maxNew: number
  temperature: number
  /** 0 = no top-k filter */
  topK: number
  eosId: number
  seed: number
  stream: number
}

/** Where each parameter starts in the flat parameter buffer, in the order the decode kernel
 *  reads them: wte, wpe, ln_f.weight, ln_f.bias, lm_head.weight, then per layer
 *  ln_1.{weight,bias}, c_attn.{weight,bias}, attn.c_proj.{weight,bias}, ln_2.{weight,bias},
 *  c_fc.{weight,bias}, mlp.c_proj.{weight,bias}. */
export const DECODE_GLOBAL_PARAMS = 5
export const DECODE_LAYER_PARAMS = 12

/** Per-sequence activations of the fused decoder, tensor-major ([N, …] blocks, in this order). */
export function decodeScratchLayout(N: number, C: number, V: number, NH: number, maxLen: number) {
  const x = 0; const ln = N * C; const qkv = 2 * N * C; const atty = 5 * N * C; const res = 6 * N * C
  const fch = 7 * N * C; const logits = 11 * N * C; const scores = logits + N * V
  const mean = scores + N * NH * maxLen; const rstd = mean + N
  return { x, ln, qkv, atty, res, fch, logits, scores, mean, rstd, total: rstd + N }
}

/** Decoding positions [posBegin, posEnd) of N sequences with a KV cache, all layers, the LM head
 *  and sampling fused: after position pos, token pos + 1 is sampled (as SampleArgs describes). */
export interface DecodeArgs extends Omit<SampleArgs, 'logits' | 'pos'> {
  /** the flat parameter buffer and each parameter's element offset in it (DECODE_*_PARAMS order) */
  params: Tensor
  offsets: Tensor
  offsetList: readonly number[]
  /** [L, N, NH, maxLen, C/NH] each */
  kCache: Tensor
  vCache: Tensor
  /** decodeScratchLayout(…).total elements */
  scratch: Tensor
  C: number; NH: number; L: number
  posBegin: number
  posEnd: number
}

export interface AdamWArgs {
  params: Tensor; grads: Tensor; m: Tensor; v: Tensor
  /** elements [0, decayEnd) get weight decay (matrices); the rest (biases, norms) do not */
  decayEnd: number
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number
  /** 1-based step, for bias correction */
  step: number
  /** clip the global gradient norm to this value; 0 disables clipping */
  maxGradNorm: number
  /** [1] receives the global gradient norm before clipping */
  gradNorm: Tensor
}

export type ScaleRewards = 'group' | 'batch' | 'none'
export const SCALE_REWARDS: readonly ScaleRewards[] = ['group', 'batch', 'none']
export type MultiObjectiveAggregation = 'sum_then_normalize' | 'normalize_then_sum'
export const MULTI_OBJECTIVE_AGGREGATIONS: readonly MultiObjectiveAggregation[] = ['sum_then_normalize', 'normalize_then_sum']

/** GRPO advantages (TRL): A = r − mean_group, divided by (std + 1e-4) unless scale is 'none';
 *  std is the sample (n − 1) standard deviation of the group ('group', 'none') or batch ('batch'). */
export interface AdvantageArgs {
  /** [numGroups · G] rewards, group-major */
  rewards: Tensor
  /** [numGroups · G] out */
  advantages: Tensor
  /** [numGroups · G] out: the std each completion was scaled by (TRL's std_rewards) */
  std: Tensor
  /** [numGroups] out: 1 where the group's rewards are all equal (zero variance), else 0 */
  zeroStdGroups: Tensor
  numGroups: number
  G: number
  scale: ScaleRewards
  /** GDPO (normalize_then_sum): each function's rewards normalised per group, weighted and summed,
   *  then normalised over the batch; `scale` is not used. Default sum_then_normalize (on `rewards`). */
  aggregation?: MultiObjectiveAggregation
  /** normalize_then_sum: [numGroups · G · K] each completion's K reward-function scores */
  rewardsPerFunc?: Tensor
  /** normalize_then_sum: [K] the functions' weights */
  rewardWeights?: Tensor
  K?: number
}

/** The per-token policy objective (TRL's loss_type families; aggregation lives in the weights):
 *  clip   −min(c₁A, clip(ρ, 1 − ε_low, 1 + ε_high)·A), c₁ = min(ρ, δ) when δ > 0 (grpo, bnpo, dr_grpo, dapo, luspo)
 *  cispo  −sg[min(ρ, ε_high)]·A·logp
 *  sapo   −σ(τ(ρ − 1))·(4/τ)·A, τ = τ_pos when A > 0, else τ_neg
 *  vespo  −sg[φ(w)]·A·logp, φ(w) = e^{λ + k·log w − λw}, w = exp Σ_t clamp(logp − logp_old, ±20) */
export type GrpoObjectiveKind = 'clip' | 'cispo' | 'sapo' | 'vespo'
/** in the kernel's numbering (Params.kind) */
export const GRPO_OBJECTIVE_KINDS: readonly GrpoObjectiveKind[] = ['clip', 'cispo', 'sapo', 'vespo']

export interface GrpoObjective {
  kind: GrpoObjectiveKind
  /** token: ρ per token; sequence: ρ = exp(mean of the sequence's masked log-ratios) (GSPO) */
  sequenceLevel: boolean
  /** two-sided clipping of the clip family's unclipped branch; 0 = off */
  delta: number
  sapoTemperaturePos: number; sapoTemperatureNeg: number
  vespoKPos: number; vespoLambdaPos: number; vespoKNeg: number; vespoLambdaNeg: number
  /** keep the tokens whose entropy is ≥ the (1 − q) quantile of this call's masked entropies; 1 = all */
  topEntropyQuantile: number
  /** loss −= entropyCoef · (masked mean entropy over the kept tokens) / gradientAccumulationSteps */
  entropyCoef: number
  gradientAccumulationSteps: number
  /** TRL's use_bias_correction_kl: the KL term times the (token or sequence) importance ratio */
  klBiasCorrection: boolean
}

export const DEFAULT_GRPO_OBJECTIVE: GrpoObjective = {
  kind: 'clip', sequenceLevel: false, delta: 0, sapoTemperaturePos: 1.0, sapoTemperatureNeg: 1.05,
  vespoKPos: 2.0, vespoLambdaPos: 3.0, vespoKNeg: 3.0, vespoLambdaNeg: 2.0,
  topEntropyQuantile: 1, entropyCoef: 0, gradientAccumulationSteps: 1, klBiasCorrection: false,
}

/** The GRPO token loss over [N, T] positions (TRL's _compute_loss):
 *  ρ = exp(logp − logp_old) (per token, or per sequence); the objective's per-token loss ℓ;
 *  kl = exp(ref − logp) − (ref − logp) − 1, times ρ with the bias correction;
 *  loss = Σ_i Σ_t mask·weight_i·(entropy_mask·ℓ + β·kl) − entropy bonus. */
export interface GrpoLossArgs {
  logp: Tensor; oldLogp: Tensor; refLogp: Tensor; entropy: Tensor
  /** [N·T] 1 for completion tokens that count, else 0 */
  mask: Tensor
  /** per-sequence advantages; sequence i uses advantages[seqOffset + i] */
  advantages: Tensor
  seqOffset?: number
  /** [N] aggregation weight of each token of sequence i */
  weights: Tensor
  /** [N·T] out: dL/dlogp */
  dlogp: Tensor
  /** [N·T] out: dL/dentropy (the entropy bonus' gradient); needed when objective.entropyCoef ≠ 0 */
  dentropy?: Tensor
  /** [3·N·T] out: per token objective, kl, clip code (−1 low-clipped, +1 high-clipped, 0 none;
   *  cispo: +1 where its cap bit; top_entropy_quantile: tokens left out have objective 0) */
  tokenTerms: Tensor
  /** [GRPO_STATS] out, see GrpoStat */
  stats: Tensor
  N: number; T: number
  epsilonLow: number; epsilonHigh: number; beta: number
  /** the objective beyond GRPO's clipped one; DEFAULT_GRPO_OBJECTIVE when left out */
  objective?: Partial<GrpoObjective>
}

/** Slots of GrpoLossArgs.stats. Sums over masked tokens unless said; TRL's metric = sum / its count.
 *  clipLow, clipHigh, clipRegion count tokens (token level) or sequences (sequence level) and are
 *  divided by clipCount; clipLowMin / clipHighMax are the min / max over sequences with tokens of
 *  each sequence's clipped fraction (TRL's clip_ratio/low_min, high_max; ±3e38 when none: NaN). */
export const GrpoStat = {
  loss: 0, count: 1, kl: 2, clipLow: 3, clipHigh: 4, clipRegion: 5, entropy: 6, ratioMin: 7, ratioMax: 8,
  clipCount: 9, clipLowMin: 10, clipHighMax: 11,
  /** cispo: tokens (sequences) with ρ > ε_high and A > 0 (cispo_clip_ratio = cispoClip / clipCount) */
  cispoClip: 12,
  /** vespo: Σ over sequences of φ (vespo/phi_seq_mean = phiSum / sequences) */
  phiSum: 13, sequences: 14,
  /** the loss without the entropy bonus (TRL logs it as policy_loss when the bonus is on) */
  policyLoss: 15,
  /** the entropy bonus' mean entropy (before entropyCoef and the accumulation division) */
  bonusEntropy: 16,
} as const
export const GRPO_STATS = 17

/** Dispatches of one grpoLoss: per-sequence terms, token terms, statistics; the entropy ranking
 *  when top_entropy_quantile < 1; the entropy bonus' gradient when entropy_coef ≠ 0. */
export function grpoLossDispatches(o: GrpoObjective): number {
  return 3 + (o.topEntropyQuantile < 1 ? 1 : 0) + (o.entropyCoef !== 0 ? 1 : 0)
}

/** The GPU device is gone (driver reset, GPUDevice.destroy(), a tab in the background too long):
 *  every op after it fails. The device's buffers are lost with it; a run continues on a new
 *  device from a snapshot taken before (GRPOTrainer.snapshot / restore). */
export class DeviceLostError extends Error {
  override readonly name = 'DeviceLostError'
  constructor(readonly reason: string, readonly detail: string) {
    super(`the GPU device was lost (${reason}: ${detail.replace(/\.$/, '') || 'no detail'})`)
  }
}

export interface Backend {
  readonly kind: 'webgpu' | 'cpu'
  readonly counters: Counters
  describe(): AdapterDescription

  /** Alignment of tensor offsets inside a shared buffer, in elements. */
  readonly alignment: number

  createBuffer(length: number, dtype: DType, label: string): Buffer
  destroyBuffer(buffer: Buffer): void
  /** Upload host data into a tensor (program order is kept with enqueued ops). */
  write(target: Tensor, data: ArrayLike<number>): void
  /** Read a tensor back to the host: the only way data leaves the device. Counted. */
  read(source: Tensor): Promise<Float32Array | Float64Array | Uint32Array>
  /** Submit what is enqueued (no-op on CPU). */
  flush(): void
  /** Resolve when all submitted work is done. */
  sync(): Promise<void>
  destroy(): void

  // ---- elementwise ------------------------------------------------------------------------
  fill(out: Tensor, value: number): void
  copy(out: Tensor, src: Tensor): void
  /** out = a + b */
  add(out: Tensor, a: Tensor, b: Tensor): void
  geluForward(out: Tensor, inp: Tensor): void
  /** dinp = gelu'(inp) · dout */
  geluBackward(dinp: Tensor, inp: Tensor, dout: Tensor): void

  // ---- linear algebra ---------------------------------------------------------------------
  matmul(args: MatmulArgs): void
  /** dbias[n] (+)= Σ_m dout[m, n] */
  biasGrad(dbias: Tensor, dout: Tensor, M: number, N: number, accumulate: boolean): void

  // ---- layers -----------------------------------------------------------------------------
  /** out[b,t,:] = wte[tokens[b,t]] + wpe[t] */
  embeddingForward(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor, B: number, T: number, C: number): void
  embeddingBackward(dwte: Tensor, dwpe: Tensor, dout: Tensor, tokens: Tensor,
    B: number, T: number, C: number, V: number, accumulate: boolean): void
  /** Decoding: out[n,:] = wte[tokens[n, pos]] + wpe[pos] for a [N, maxLen] token matrix. */
  embeddingForwardAt(out: Tensor, tokens: Tensor, wte: Tensor, wpe: Tensor,
    N: number, maxLen: number, pos: number, C: number): void

  layernormForward(out: Tensor, mean: Tensor, rstd: Tensor, inp: Tensor, weight: Tensor, bias: Tensor,
    rows: number, C: number): void
  /** dinp += ∂L/∂inp (it is the residual stream's gradient); dweight, dbias (+)= theirs. */
  layernormBackward(dinp: Tensor, dweight: Tensor, dbias: Tensor, dout: Tensor, inp: Tensor, weight: Tensor,
    mean: Tensor, rstd: Tensor, rows: number, C: number, accumulate: boolean): void

  /** Causal self-attention. qkv [B,T,3C] → out [B,T,C]; att [B,NH,T,T] keeps the probabilities. */
  attentionForward(out: Tensor, att: Tensor, qkv: Tensor, B: number, T: number, C: number, NH: number): void
  /** dqkv = ∂L/∂qkv (overwritten); datt [B,NH,T,T] is scratch. */
  attentionBackward(dqkv: Tensor, datt: Tensor, dout: Tensor, qkv: Tensor, att: Tensor,
    B: number, T: number, C: number, NH: number): void
  /** Decoding one position with a KV cache ([N, NH, maxLen, C/NH] each): stores k, v of `pos`
   *  from qkv [N,3C], then attends over positions 0..pos. */
  attentionDecode(out: Tensor, qkv: Tensor, kCache: Tensor, vCache: Tensor,
    N: number, C: number, NH: number, maxLen: number, pos: number): void

  /** Fused log-softmax + gather at a temperature (TRL divides training logits by it):
   *  z = logits · invTemperature, logp[r] = log softmax(z[r])[targets[r]], entropy[r] = H(softmax(z[r])). */
  logprobForward(logp: Tensor, entropy: Tensor, logits: Tensor, targets: Tensor, rows: number, V: number, invTemperature?: number): void
  /** dlogits[r,v] = invT · (dlogp[r] · (1[v = target] − p_v) − dentropy[r] · p_v · (log p_v + H_r)), p = softmax(z[r]) */
  logprobBackward(dlogits: Tensor, logits: Tensor, targets: Tensor, dlogp: Tensor, rows: number, V: number,
    invTemperature?: number, dentropy?: Tensor): void

  // ---- GRPO --------------------------------------------------------------------------------
  advantages(args: AdvantageArgs): void
  grpoLoss(args: GrpoLossArgs): void

  // ---- optimisation and sampling ----------------------------------------------------------
  adamw(args: AdamWArgs): void
  sample(args: SampleArgs): void
  /** Many positions of KV-cache decoding in one call (one dispatch on WebGPU). */
  decodePositions(args: DecodeArgs): void
}
