// The whole tiny GPT on WebGPU against the CPU backend: forward, backward, AdamW, decoding.
import { describe, expect, it } from 'vitest'
import type { Backend } from '../../src/engine/backend'
import { countersSince } from '../../src/engine/counters'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import type { GPTConfig } from '../../src/model/config'
import { generate } from '../../src/model/decode'
import { GPT } from '../../src/model/gpt'
import { AdamW } from '../../src/model/optimizer'
import { tensorsFromFlat } from '../../src/model/checkpoint'
import { expectClose, randomInts, useGpu } from '../helpers'

const config: GPTConfig = { vocabSize: 13, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16 }
const gpu = useGpu()
const cpu = new CpuBackend('f32')

function build(be: Backend, cfg = config): { model: GPT; opt: AdamW } {
  const model = new GPT(be, cfg)
  model.initialize(42)
  return { model, opt: new AdamW(model, { learningRate: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1 }) }
}

/** Parameters by name, so layouts with different alignment compare. */
async function named(model: GPT, of = model.params): Promise<Map<string, Float32Array>> {
  return tensorsFromFlat(model.config, model.backend.alignment, Float32Array.from(await model.backend.read(of)))
}

describe('tiny GPT: WebGPU against the CPU twin', () => {
  /** Forward, backward and (with `update`) one AdamW step of the same model and batch on both backends, compared. */
  async function compareStep(cfg: GPTConfig, B: number, T: number, temperature: number, entropyGrad: boolean, update = true): Promise<void> {
    const tokens = randomInts(B * T, 1, cfg.vocabSize)
    const targets = randomInts(B * T, 2, cfg.vocabSize)
    const dlogp = Float32Array.from({ length: B * T }, (_, i) => -(1 + (i % 3)) / (B * T))
    const dentropy = Float32Array.from({ length: B * T }, (_, i) => ((i % 5) - 2) / (B * T))
    const results = []
    for (const be of [cpu, gpu()]) {
      const { model, opt } = build(be, cfg)
      const acts = model.activations(B, T)
      be.write(acts.tokens, tokens); be.write(acts.targets, targets); be.write(acts.dlogp, dlogp); be.write(acts.dentropy, dentropy)
      model.forward(B, T, undefined, { temperature })
      model.backward(false, entropyGrad)
      const grads = await named(model, model.grads)
      opt.update()
      results.push({
        logp: await be.read(acts.logp), entropy: await be.read(acts.entropy), grads,
        gradNorm: await be.read(opt.gradNorm), params: await named(model),
      })
    }
    const [c, g] = results
    expectClose(g.logp, c.logp, 1e-5, 1e-4, 'logp')
    expectClose(g.entropy, c.entropy, 1e-5, 1e-4, 'entropy')
    // every parameter tensor compared, by name: none missing on either side
    const names = [...c.params.keys()]
    expect(names.length).toBe(5 + 12 * cfg.nLayer) // wte, wpe, ln_f (2), lm_head; 12 tensors per layer
    for (const m of [c.grads, g.grads, g.params]) expect([...m.keys()]).toEqual(names)
    for (const [name, expected] of c.grads) expectClose(g.grads.get(name)!, expected, 1e-6, 1e-3, `grad ${name}`)
    expectClose(g.gradNorm, c.gradNorm, 1e-6, 1e-4, 'grad norm')
    if (update) for (const [name, expected] of c.params) expectClose(g.params.get(name)!, expected, 1e-5, 1e-3, `param ${name}`)
  }

  it.each([[1, false], [0.7, true]])('forward log-probs, entropy, every gradient, and one AdamW step agree (temperature %s, entropy gradient %s)', async (temperature, entropyGrad) => {
    await compareStep(config, 3, 10, temperature, entropyGrad)
  })

  // head sizes 4, 16, 32 and sequences off the attention kernels' 16-row blocks. Forward and
  // gradients only: AdamW's first step is about lr·g/(|g| + eps), which turns a rounding-level
  // difference in a gradient near 1e-6 into 1e-3 of the step (so at width 32, one head, with the
  // former attention kernels too)
  it.each([[16, 4, 17], [32, 2, 33], [32, 1, 21]])('log-probs and every gradient agree at width %s with %s heads over %s positions', async (nEmbd, nHead, T) => {
    await compareStep({ ...config, nEmbd, nHead, nLayer: 1, blockSize: 40 }, 2, T, 1, false, false)
  })

  it('a forward and backward twice gives the same bits', async () => {
    const B = 4; const T = 19
    const { model } = build(gpu(), { ...config, blockSize: 24 })
    const acts = model.activations(B, T)
    gpu().write(acts.tokens, randomInts(B * T, 3, config.vocabSize)); gpu().write(acts.targets, randomInts(B * T, 4, config.vocabSize))
    gpu().write(acts.dlogp, new Float32Array(B * T).fill(-1 / (B * T)))
    const runs = []
    for (let r = 0; r < 2; r++) {
      model.forward(B, T)
      model.backward(false)
      runs.push(Array.from(new Uint32Array((await gpu().read(model.grads)).buffer)))
    }
    expect(runs[1]).toEqual(runs[0])
    model.destroy()
  })

  it('sampling N tokens with the KV cache takes one readback, not N', async () => {
    const { model } = build(gpu())
    const prompts = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10]]
    const maxNewTokens = 10
    const before = { ...gpu().counters }
    const out = await generate(model, { prompts, maxNewTokens, temperature: 1, seed: 7 })
    const used = countersSince(gpu().counters, before)
    expect(used.readbacks).toBe(1)
    const sampled = out.completions.reduce((s, c) => s + c.length, 0)
    expect(sampled).toBeGreaterThan(prompts.length)
    // one fill of the done flags, then one fused decode dispatch for all positions of a tiny model
    expect(used.dispatches).toBe(2)
  })

  it('the same seed gives the same tokens; another seed does not', async () => {
    const { model } = build(gpu())
    const opts = { prompts: [[1], [2], [3], [1]], maxNewTokens: 12, temperature: 1, topK: 8, seed: 11 }
    const a = await generate(model, opts)
    const b = await generate(model, opts)
    const c = await generate(model, { ...opts, seed: 12 })
    expect(b.completions).toEqual(a.completions)
    expect(c.completions).not.toEqual(a.completions)
  })

  it('decoding with the KV cache agrees with the full forward pass (greedy), and CPU agrees with WebGPU', async () => {
    const runs = []
    for (const be of [cpu, gpu()]) {
      const { model } = build(be)
      const prompts = [[1, 2], [3], [4, 5, 6]]
      const out = await generate(model, { prompts, maxNewTokens: 8, temperature: 0, seed: 1 })
      // teacher-forced forward over each generated sequence: the greedy token is the argmax
      for (let n = 0; n < prompts.length; n++) {
        const seq = [...prompts[n], ...out.completions[n]]
        const T = seq.length - 1
        const acts = model.activations(1, T)
        be.write(acts.tokens, seq.slice(0, T))
        be.write(acts.targets, seq.slice(1))
        model.forward(1, T)
        const logits = await be.read(acts.logits)
        for (let t = prompts[n].length - 1; t < T; t++) {
          const row = Array.from(logits.slice(t * config.vocabSize, (t + 1) * config.vocabSize))
          expect(seq[t + 1]).toBe(row.indexOf(Math.max(...row)))
        }
      }
      runs.push(out.completions)
    }
    expect(runs[1]).toEqual(runs[0])
  })
})
