// The attention kernels' share of a training step, and the fused decode kernel's rollout speed,
// on whatever WebGPU adapter Node finds (SwiftShader on a machine without a GPU): a quick
// before/after check for kernel work, not a benchmark against peers (that is `npm run bench`).
// Run: node scripts/node-gpu.mjs bench/kernels.ts [--reps N] [--new-tokens N]
// Prints one JSON object; the load average is part of it, since a shared machine skews timings.
import { loadavg } from 'node:os'
import { adapterLabel } from '../src/engine/backend'
import { createNodeWebGPUBackend } from '../src/engine/node'
import { generate } from '../src/model/decode'
import { GPT } from '../src/model/gpt'
import { randomInts } from '../test/helpers'
import { median } from './workload'

/** The default shape of the brief: 2 layers × 64 wide, 4 heads, vocabulary 29, 64 sequences × 96 positions. */
const SHAPE = { nLayer: 2, nHead: 4, nEmbd: 64, vocabSize: 29, blockSize: 128, B: 64, T: 96, prompt: 16 }

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  if (i < 0) return fallback
  const v = Number(process.argv[i + 1])
  if (!Number.isInteger(v) || v < 1) { console.error(`${name}: allowed a positive integer, got ${process.argv[i + 1]}`); process.exit(2) }
  return v
}

const reps = option('--reps', 5)
const newTokens = option('--new-tokens', 80)
const be = await createNodeWebGPUBackend()
const { B, T } = SHAPE
const model = new GPT(be, SHAPE)
model.initialize(1)
const acts = model.activations(B, T)
be.write(acts.tokens, randomInts(B * T, 1, SHAPE.vocabSize))
be.write(acts.targets, randomInts(B * T, 2, SHAPE.vocabSize))
be.write(acts.dlogp, new Float32Array(B * T).fill(-1 / (B * T)))

interface Timing { median_ms: number; min_ms: number; ms: number[]; median_cpu_ms: number }

/** Wall time, and this process's CPU time (SwiftShader's threads included): on a machine shared
 *  with other work the CPU time moves less with the load than the wall time does. */
async function timed(run: () => Promise<unknown> | void, warmUp = true): Promise<Timing> {
  if (warmUp) { await run(); await be.sync() } // pipelines, bind groups
  const ms: number[] = []; const cpu: number[] = []
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(); const c0 = process.cpuUsage()
    await run()
    await be.sync()
    const c = process.cpuUsage(c0)
    ms.push(Math.round((performance.now() - t0) * 10) / 10)
    cpu.push(Math.round((c.user + c.system) / 100) / 10)
  }
  return { median_ms: median(ms), min_ms: Math.min(...ms), ms, median_cpu_ms: median(cpu) }
}

const load = () => loadavg().map((x) => Math.round(x * 100) / 100)
const loadBefore = load()
const step = await timed(() => { model.forward(B, T); model.backward(false) })
// the attention ops of that step alone, on the step's own buffers
const { nEmbd: C, nHead: NH } = SHAPE
const attention = await timed(() => {
  for (const x of acts.layers) be.attentionForward(x.atty, x.att, x.qkv, B, T, C, NH)
  for (const x of acts.layers) be.attentionBackward(acts.dqkv, acts.datt, acts.datty, x.qkv, x.att, B, T, C, NH)
})
const prompts = Array.from({ length: B }, (_, n) => Array.from(randomInts(SHAPE.prompt, 10 + n, SHAPE.vocabSize)))
const rolloutOpts = { prompts, maxNewTokens: newTokens, temperature: 1, seed: 3, eosId: SHAPE.vocabSize } // end token unreachable
const rollout = await timed(() => generate(model, rolloutOpts))
console.log(JSON.stringify({
  adapter: adapterLabel(be.describe()), shape: SHAPE, reps,
  train_step_fwd_bwd: step, attention_fwd_bwd: attention,
  attention_share: Math.round((attention.median_ms / step.median_ms) * 1000) / 1000,
  attention_cpu_share: Math.round((attention.median_cpu_ms / step.median_cpu_ms) * 1000) / 1000,
  rollout: { sequences: B, new_tokens: newTokens, ...rollout, tokens_per_s: Math.round((B * newTokens) / (rollout.median_ms / 1000)) },
  loadavg_before: loadBefore, loadavg_after: load(),
}, null, 2))
be.destroy()
process.exit(0)
