// AdamW over the flat parameter buffer, on the backend (one update dispatch plus a two-stage
// gradient-norm reduction on WebGPU). The gradient norm stays on the device until asked for.
import type { Tensor } from '../engine/backend'
import { whole } from '../engine/backend'
import type { GPT } from './gpt'

export interface AdamWConfig {
  learningRate: number
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
  /** clip the global gradient norm to this; 0 turns clipping off */
  maxGradNorm: number
}

export const DEFAULT_ADAMW: AdamWConfig = {
  learningRate: 1e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.0, maxGradNorm: 1.0,
}

export class AdamW {
  readonly m: Tensor
  readonly v: Tensor
  /** [1]: the gradient norm of the last step, before clipping */
  readonly gradNorm: Tensor
  step = 0

  constructor(readonly model: GPT, readonly config: AdamWConfig = DEFAULT_ADAMW) {
    const be = model.backend
    this.m = whole(be.createBuffer(model.layout.total, 'f32', 'adam_m'))
    this.v = whole(be.createBuffer(model.layout.total, 'f32', 'adam_v'))
    this.gradNorm = whole(be.createBuffer(1, 'f32', 'grad_norm'))
    be.fill(this.m, 0)
    be.fill(this.v, 0)
    be.fill(this.gradNorm, 0)
  }

  /** One update from the model's current gradients; `lr` overrides the configured rate (schedules). */
  update(lr = this.config.learningRate): void {
    this.step++
    const c = this.config
    this.model.backend.adamw({
      params: this.model.params, grads: this.model.grads, m: this.m, v: this.v,
      decayEnd: this.model.layout.decayEnd, lr, beta1: c.beta1, beta2: c.beta2, eps: c.eps,
      weightDecay: c.weightDecay, step: this.step, maxGradNorm: c.maxGradNorm, gradNorm: this.gradNorm,
    })
  }

  destroy(): void {
    const be = this.model.backend
    be.destroyBuffer(this.m.buffer); be.destroyBuffer(this.v.buffer); be.destroyBuffer(this.gradNorm.buffer)
  }
}
