// The tiny GPT (pre-LayerNorm, GELU MLP, learned positions, untied LM head), written once
// against the Backend interface. Forward and backward of each layer sit side by side, as in
// llm.c's train_gpt2.c: activations and gradients live in named, preallocated buffers.
//
// The model's output is per-token log-probabilities of given targets (and the entropy):
// pretraining and GRPO both need exactly that, and the backward pass starts from dL/dlogp.

import type { Backend, Buffer, Tensor } from '../engine/backend'
import { view, whole } from '../engine/backend'
import { normal, Stream } from '../engine/rng'
import { type GPTConfig, validateConfig } from './config'
import { layerNames, type ParamLayout, paramLayout } from './params'

type LayerTensors = Record<keyof ReturnType<typeof layerNames>, Tensor>

interface LayerActs {
  ln1: Tensor; ln1Mean: Tensor; ln1Rstd: Tensor
  qkv: Tensor; atty: Tensor; att: Tensor; attproj: Tensor; residual2: Tensor
  ln2: Tensor; ln2Mean: Tensor; ln2Rstd: Tensor
  fch: Tensor; fchGelu: Tensor; fcproj: Tensor; residual3: Tensor
}

/** Forward activations and backward scratch for one batch shape. */
interface Activations {
  B: number; T: number
  tokens: Tensor; targets: Tensor
  encoded: Tensor
  layers: LayerActs[]
  lnf: Tensor; lnfMean: Tensor; lnfRstd: Tensor
  logits: Tensor; logp: Tensor; entropy: Tensor
  /** 1 / the temperature the last forward ran at (backward uses the same) */
  invTemperature: number
  // gradients of activations, shared by all layers; dentropy is read by backward only when asked
  dlogp: Tensor; dentropy: Tensor; dlogits: Tensor; dresidual: Tensor; dln: Tensor
  dfchGelu: Tensor; dfch: Tensor; datty: Tensor; dqkv: Tensor; datt: Tensor
  buffers: Buffer[]
}

export interface ForwardOptions {
  /** the logits are divided by it before log-softmax and entropy; 0 (greedy sampling) trains at 1 */
  temperature?: number
}

/** 1 / T for the training logits. TRL divides them by the sampling temperature, which for T = 0
 *  (greedy sampling, which the config allows) would divide by zero: the lab trains such a run's
 *  logits at temperature 1, the distribution greedy decoding takes its argmax of. */
export function trainingInvTemperature(temperature: number): number {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature ${temperature}: allowed a finite number ≥ 0`)
  return temperature === 0 ? 1 : 1 / temperature
}

export class GPT {
  readonly config: GPTConfig
  readonly layout: ParamLayout
  readonly params: Tensor
  readonly grads: Tensor
  private acts: Activations | null = null
  private io: { tokens: Tensor; targets: Tensor } | null = null

  constructor(readonly backend: Backend, config: GPTConfig) {
    this.config = validateConfig({ ...config })
    this.layout = paramLayout(this.config, backend.alignment)
    this.params = whole(backend.createBuffer(this.layout.total, 'f32', 'params'))
    this.grads = whole(backend.createBuffer(this.layout.total, 'f32', 'grads'))
    backend.fill(this.params, 0)
    backend.fill(this.grads, 0)
  }

  /** The view of one named parameter (or gradient) in the flat buffer. */
  param(name: string, of: Tensor = this.params): Tensor {
    const spec = this.layout.byName.get(name)
    if (!spec) throw new Error(`no parameter named '${name}'`)
    return view(of.buffer, of.offset + spec.offset, spec.length)
  }

  private layer(l: number, of: Tensor): LayerTensors {
    const names = layerNames(l)
    const out = {} as Record<string, Tensor>
    for (const [k, name] of Object.entries(names)) out[k] = this.param(name, of)
    return out as LayerTensors
  }

  /** GPT-2 initialisation from a seed: N(0, 0.02), residual projections scaled by 1/√(2·nLayer),
   *  biases 0, LayerNorm weights 1. Computed on the host with the counter-based RNG. */
  initialize(seed: number): void {
    this.backend.write(this.params, initialWeights(this.config, this.layout, seed))
  }

  /** Upload a host copy of the flat parameters (same layout). */
  loadFlat(flat: ArrayLike<number>): void {
    if (flat.length !== this.layout.total) throw new Error(`parameters: expected ${this.layout.total} values, got ${flat.length}`)
    this.backend.write(this.params, flat)
  }

  async readFlat(): Promise<Float32Array> {
    return Float32Array.from(await this.backend.read(this.params))
  }

  /** Buffers for a batch of B sequences of T positions (re-made only when the shape changes). */
  activations(B: number, T: number): Activations {
    if (this.acts && this.acts.B === B && this.acts.T === T) return this.acts
    if (T > this.config.blockSize) throw new RangeError(`sequence length ${T} exceeds the context of ${this.config.blockSize}`)
    if (this.acts) this.acts.buffers.forEach((b) => this.backend.destroyBuffer(b))
    const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = this.config
    const BT = B * T
    const buffers: Buffer[] = []
    const t = (n: number, label: string, dtype: 'f32' | 'u32' = 'f32') => {
      const b = this.backend.createBuffer(n, dtype, label)
      buffers.push(b)
      return whole(b)
    }
    const layers: LayerActs[] = []
    for (let l = 0; l < L; l++) {
      layers.push({
        ln1: t(BT * C, `ln1.${l}`), ln1Mean: t(BT, `ln1_mean.${l}`), ln1Rstd: t(BT, `ln1_rstd.${l}`),
        qkv: t(BT * 3 * C, `qkv.${l}`), atty: t(BT * C, `atty.${l}`), att: t(B * NH * T * T, `att.${l}`),
        attproj: t(BT * C, `attproj.${l}`), residual2: t(BT * C, `residual2.${l}`),
        ln2: t(BT * C, `ln2.${l}`), ln2Mean: t(BT, `ln2_mean.${l}`), ln2Rstd: t(BT, `ln2_rstd.${l}`),
        fch: t(BT * 4 * C, `fch.${l}`), fchGelu: t(BT * 4 * C, `fch_gelu.${l}`),
        fcproj: t(BT * C, `fcproj.${l}`), residual3: t(BT * C, `residual3.${l}`),
      })
    }
    this.acts = {
      B, T, tokens: t(BT, 'tokens', 'u32'), targets: t(BT, 'targets', 'u32'), encoded: t(BT * C, 'encoded'), layers,
      lnf: t(BT * C, 'lnf'), lnfMean: t(BT, 'lnf_mean'), lnfRstd: t(BT, 'lnf_rstd'),
      logits: t(BT * V, 'logits'), logp: t(BT, 'logp'), entropy: t(BT, 'entropy'), invTemperature: 1,
      dlogp: t(BT, 'dlogp'), dentropy: t(BT, 'dentropy'), dlogits: t(BT * V, 'dlogits'), dresidual: t(BT * C, 'dresidual'), dln: t(BT * C, 'dln'),
      dfchGelu: t(BT * 4 * C, 'dfch_gelu'), dfch: t(BT * 4 * C, 'dfch'), datty: t(BT * C, 'datty'),
      dqkv: t(BT * 3 * C, 'dqkv'), datt: t(B * NH * T * T, 'datt'),
      buffers,
    }
    return this.acts
  }

  /**
   * Forward over `acts.tokens` [B, T]: acts.logp[b, t] = log p(targets[b, t] | tokens[b, ≤t]),
   * acts.entropy[b, t] = entropy of that next-token distribution, both of softmax(logits / T) at
   * `options.temperature` (default 1; GRPO trains at the sampling temperature, as TRL does).
   * Nothing is read back.
   */
  forward(B: number, T: number, io?: { tokens: Tensor; targets: Tensor }, options: ForwardOptions = {}): Activations {
    const be = this.backend
    const a = this.activations(B, T)
    // inputs may live in the caller's buffers (e.g. one per microbatch); backward uses the same
    this.io = io ?? { tokens: a.tokens, targets: a.targets }
    const { tokens, targets } = this.io
    const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = this.config
    const BT = B * T
    const P = this.params
    be.embeddingForward(a.encoded, tokens, this.param('wte'), this.param('wpe'), B, T, C)
    let residual = a.encoded
    for (let l = 0; l < L; l++) {
      const w = this.layer(l, P)
      const x = a.layers[l]
      // attention block: residual2 = residual + proj(attn(ln1(residual)))
      be.layernormForward(x.ln1, x.ln1Mean, x.ln1Rstd, residual, w.ln1w, w.ln1b, BT, C)
      be.matmul({ out: x.qkv, a: x.ln1, b: w.qkvw, bias: w.qkvb, M: BT, N: 3 * C, K: C, transB: true })
      be.attentionForward(x.atty, x.att, x.qkv, B, T, C, NH)
      be.matmul({ out: x.attproj, a: x.atty, b: w.projw, bias: w.projb, M: BT, N: C, K: C, transB: true })
      be.add(x.residual2, residual, x.attproj)
      // MLP block: residual3 = residual2 + proj(gelu(fc(ln2(residual2))))
      be.layernormForward(x.ln2, x.ln2Mean, x.ln2Rstd, x.residual2, w.ln2w, w.ln2b, BT, C)
      be.matmul({ out: x.fch, a: x.ln2, b: w.fcw, bias: w.fcb, M: BT, N: 4 * C, K: C, transB: true })
      be.geluForward(x.fchGelu, x.fch)
      be.matmul({ out: x.fcproj, a: x.fchGelu, b: w.fcprojw, bias: w.fcprojb, M: BT, N: C, K: 4 * C, transB: true })
      be.add(x.residual3, x.residual2, x.fcproj)
      residual = x.residual3
    }
    be.layernormForward(a.lnf, a.lnfMean, a.lnfRstd, residual, this.param('ln_f.weight'), this.param('ln_f.bias'), BT, C)
    be.matmul({ out: a.logits, a: a.lnf, b: this.param('lm_head.weight'), M: BT, N: V, K: C, transB: true })
    a.invTemperature = trainingInvTemperature(options.temperature ?? 1)
    be.logprobForward(a.logp, a.entropy, a.logits, targets, BT, V, a.invTemperature)
    return a
  }

  /**
   * Backward from acts.dlogp (dL/dlogp per token) after `forward` with the same shape, at its
   * temperature; with `entropyGrad`, also from acts.dentropy (dL/dentropy: an entropy bonus).
   * Writes the parameter gradients, or adds to them when `accumulate` (gradient accumulation).
   */
  backward(accumulate = false, entropyGrad = false): void {
    const be = this.backend
    const a = this.acts
    const io = this.io
    if (!a || !io) throw new Error('backward called before forward')
    const { B, T } = a
    const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = this.config
    const BT = B * T
    const P = this.params
    const G = this.grads
    const acc = accumulate

    be.logprobBackward(a.dlogits, a.logits, io.targets, a.dlogp, BT, V, a.invTemperature, entropyGrad ? a.dentropy : undefined)
    be.matmul({ out: this.param('lm_head.weight', G), a: a.dlogits, b: a.lnf, M: V, N: C, K: BT, transA: true, accumulate: acc })
    be.matmul({ out: a.dln, a: a.dlogits, b: this.param('lm_head.weight'), M: BT, N: C, K: V })
    be.fill(a.dresidual, 0)
    const lastResidual = L > 0 ? a.layers[L - 1].residual3 : a.encoded
    be.layernormBackward(a.dresidual, this.param('ln_f.weight', G), this.param('ln_f.bias', G), a.dln, lastResidual,
      this.param('ln_f.weight'), a.lnfMean, a.lnfRstd, BT, C, acc)

    for (let l = L - 1; l >= 0; l--) {
      const w = this.layer(l, P)
      const g = this.layer(l, G)
      const x = a.layers[l]
      const residual = l === 0 ? a.encoded : a.layers[l - 1].residual3
      // MLP block; a.dresidual holds dL/d residual3 and becomes dL/d residual2
      be.matmul({ out: g.fcprojw, a: a.dresidual, b: x.fchGelu, M: C, N: 4 * C, K: BT, transA: true, accumulate: acc })
      be.biasGrad(g.fcprojb, a.dresidual, BT, C, acc)
      be.matmul({ out: a.dfchGelu, a: a.dresidual, b: w.fcprojw, M: BT, N: 4 * C, K: C })
      be.geluBackward(a.dfch, x.fch, a.dfchGelu)
      be.matmul({ out: g.fcw, a: a.dfch, b: x.ln2, M: 4 * C, N: C, K: BT, transA: true, accumulate: acc })
      be.biasGrad(g.fcb, a.dfch, BT, 4 * C, acc)
      be.matmul({ out: a.dln, a: a.dfch, b: w.fcw, M: BT, N: C, K: 4 * C })
      be.layernormBackward(a.dresidual, g.ln2w, g.ln2b, a.dln, x.residual2, w.ln2w, x.ln2Mean, x.ln2Rstd, BT, C, acc)
      // attention block; a.dresidual becomes dL/d residual (the layer's input)
      be.matmul({ out: g.projw, a: a.dresidual, b: x.atty, M: C, N: C, K: BT, transA: true, accumulate: acc })
      be.biasGrad(g.projb, a.dresidual, BT, C, acc)
      be.matmul({ out: a.datty, a: a.dresidual, b: w.projw, M: BT, N: C, K: C })
      be.attentionBackward(a.dqkv, a.datt, a.datty, x.qkv, x.att, B, T, C, NH)
      be.matmul({ out: g.qkvw, a: a.dqkv, b: x.ln1, M: 3 * C, N: C, K: BT, transA: true, accumulate: acc })
      be.biasGrad(g.qkvb, a.dqkv, BT, 3 * C, acc)
      be.matmul({ out: a.dln, a: a.dqkv, b: w.qkvw, M: BT, N: C, K: 3 * C })
      be.layernormBackward(a.dresidual, g.ln1w, g.ln1b, a.dln, residual, w.ln1w, x.ln1Mean, x.ln1Rstd, BT, C, acc)
    }
    be.embeddingBackward(this.param('wte', G), this.param('wpe', G), a.dresidual, io.tokens, B, T, C, V, acc)
  }

  /** Free the activations of the last batch shape (the next forward makes them again). */
  releaseActivations(): void {
    if (this.acts) this.acts.buffers.forEach((b) => this.backend.destroyBuffer(b))
    this.acts = null
  }

  destroy(): void {
    this.releaseActivations()
    this.backend.destroyBuffer(this.params.buffer)
    this.backend.destroyBuffer(this.grads.buffer)
  }
}

export function initialWeights(c: GPTConfig, layout: ParamLayout, seed: number): Float32Array {
  const flat = new Float32Array(layout.total)
  const residualScale = 1 / Math.sqrt(2 * c.nLayer)
  layout.specs.forEach((spec, t) => {
    const isMatrix = spec.shape.length === 2
    if (isMatrix) {
      const std = 0.02 * (/c_proj\.weight$/.test(spec.name) ? residualScale : 1)
      for (let i = 0; i < spec.length; i++) flat[spec.offset + i] = std * normal(seed, Stream.init, t * 0x100000 + i)
    } else if (/ln_\w+\.weight$/.test(spec.name)) {
      flat.fill(1, spec.offset, spec.offset + spec.length)
    }
  })
  return flat
}
