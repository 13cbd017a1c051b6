// The same GRPO optimisation step written with TensorFlow.js on its WebGPU backend: the same
// GPT (pre-LayerNorm, GELU tanh MLP, learned positions, untied head, weights in grpo-lab's
// layout, initialised to grpo-lab's initial weights), the same batch, the GRPO loss with μ = 1
// (ρ = 1, so −A·ρ has the gradient of −A·logp), TRL's grpo aggregation (per-sequence weights),
// group advantages, global gradient-norm clipping at 1.0, and tf.train.adam — grpo-lab's AdamW
// with weight_decay 0 (the default run's), i.e. the same update. One small readback (the
// gradient norm) awaits completion, as on grpo-lab's side.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-core/dist/register_all_gradients' // tfjs-core alone has no gradients (the @tensorflow/tfjs bundle imports this)
import '@tensorflow/tfjs-backend-webgpu'
import type { ParamLayout } from '../src/model/params'
import { layerNames } from '../src/model/params'
import { ADAM, LEARNING_RATE } from './grpolab'
import type { GrpoBatch, Shape } from './workload'

const LN_EPS = 1e-5

export async function initTfjs(): Promise<{ device: GPUDevice; version: string }> {
  const ok = await tf.setBackend('webgpu')
  if (!ok) throw new Error('TensorFlow.js: the webgpu backend could not start')
  await tf.ready()
  const device = (tf.backend() as unknown as { device: GPUDevice }).device
  return { device, version: tf.version_core }
}

export class TfjsGrpoStep {
  private readonly vars = new Map<string, tf.Variable>()
  private readonly opt: tf.Optimizer

  /** `flat`: grpo-lab's flat parameters (its layout), so both sides start from the same weights. */
  constructor(readonly shape: Shape, readonly V: number, layout: ParamLayout, flat: Float32Array, readonly batch: GrpoBatch) {
    for (const s of layout.specs) {
      this.vars.set(s.name, tf.variable(tf.tensor(flat.slice(s.offset, s.offset + s.length), s.shape), true, `v_${s.name}`))
    }
    this.opt = tf.train.adam(LEARNING_RATE, ADAM.beta1, ADAM.beta2, ADAM.eps)
  }

  private p(name: string): tf.Variable {
    const v = this.vars.get(name)
    if (!v) throw new Error(`tfjs: no variable ${name}`)
    return v
  }

  private layerNorm(x: tf.Tensor2D, w: string, b: string): tf.Tensor2D {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), this.p(w)), this.p(b)) as tf.Tensor2D
  }

  /** y = x·Wᵀ + b, W [out, in] as in grpo-lab */
  private linear(x: tf.Tensor2D, w: string, b?: string): tf.Tensor2D {
    const y = tf.matMul(x, this.p(w), false, true)
    return (b ? tf.add(y, this.p(b)) : y) as tf.Tensor2D
  }

  private gelu(x: tf.Tensor2D): tf.Tensor2D {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))))
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner))) as tf.Tensor2D
  }

  /** log p(targets) per position, [B, T] */
  logp(tokens: tf.Tensor2D, targets: tf.Tensor1D, causal: tf.Tensor2D): tf.Tensor2D {
    const { nLayer: L, nHead: NH, nEmbd: C } = this.shape
    const [B, T] = tokens.shape
    const hd = C / NH
    const pos = tf.slice(this.p('wpe'), [0, 0], [T, C])
    let x = tf.reshape(tf.add(tf.gather(this.p('wte'), tokens), pos), [B * T, C]) as tf.Tensor2D
    const heads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [B, T, NH, hd]), [0, 2, 1, 3]) as tf.Tensor4D
    for (let l = 0; l < L; l++) {
      const n = layerNames(l)
      const qkv = this.linear(this.layerNorm(x, n.ln1w, n.ln1b), n.qkvw, n.qkvb)
      const [q, k, v] = tf.split(qkv, 3, 1) as tf.Tensor2D[]
      const scores = tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(hd)), causal)
      const y = tf.matMul(tf.softmax(scores), heads(v))
      const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B * T, C]) as tf.Tensor2D
      x = tf.add(x, this.linear(merged, n.projw, n.projb)) as tf.Tensor2D
      const h = this.gelu(this.linear(this.layerNorm(x, n.ln2w, n.ln2b), n.fcw, n.fcb))
      x = tf.add(x, this.linear(h, n.fcprojw, n.fcprojb)) as tf.Tensor2D
    }
    const logits = this.linear(this.layerNorm(x, 'ln_f.weight', 'ln_f.bias'), 'lm_head.weight')
    const logp = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, this.V)), 1)
    return tf.reshape(logp, [B, T]) as tf.Tensor2D
  }

  /** One step; resolves with the global gradient norm (before clipping). */
  async run(): Promise<number> {
    const b = this.batch
    const norm = tf.tidy(() => {
      const tokens = tf.tensor2d(Int32Array.from(b.inputs), [b.N, b.T], 'int32')
      const targets = tf.tensor1d(Int32Array.from(b.targets), 'int32')
      const mask = tf.tensor2d(b.mask, [b.N, b.T])
      const weights = tf.tensor1d(b.weights)
      // group advantages, sample std + 1e-4 (TRL's scale_rewards='group')
      const r = tf.tensor2d(b.rewards, [b.P, b.G])
      const mean = tf.mean(r, 1, true)
      const std = tf.sqrt(tf.div(tf.sum(tf.square(tf.sub(r, mean)), 1, true), Math.max(1, b.G - 1)))
      const adv = tf.reshape(tf.div(tf.sub(r, mean), tf.add(std, 1e-4)), [b.N])
      const coef = tf.reshape(tf.mul(adv, weights), [b.N, 1])
      const causal = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([b.T, b.T]), -1, 0)), -1e9) as tf.Tensor2D
      const { grads } = tf.variableGrads(() => tf.neg(tf.sum(tf.mul(tf.mul(this.logp(tokens, targets, causal), mask), coef))) as tf.Scalar)
      const names = Object.keys(grads)
      // (tf.addN of these scalars gives 0 on the WebGPU backend of 4.22.0; a stack and a sum does not)
      const total = tf.sqrt(tf.sum(tf.stack(names.map((n) => tf.sum(tf.square(grads[n]))))))
      const scale = tf.minimum(1, tf.div(ADAM.maxGradNorm, tf.add(total, 1e-6)))
      this.opt.applyGradients(Object.fromEntries(names.map((n) => [n, tf.mul(grads[n], scale)])))
      return total
    })
    const v = await norm.data()
    norm.dispose()
    return v[0]
  }

  destroy(): void {
    this.vars.forEach((v) => v.dispose())
    this.opt.dispose()
  }
}

export function tfjsMemory(): Record<string, number | boolean | string[] | undefined> {
  return { ...(tf.memory() as unknown as Record<string, number | boolean | string[] | undefined>) }
}
