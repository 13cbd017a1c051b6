// The rollout with onnxruntime-web's WebGPU execution provider, running the model exported by
// src/export/onnx.ts (same weights). As a user of ORT would: with the KV cache, the present
// keys/values stay on the GPU ('gpu-buffer' outputs fed back as the next pasts) and the logits
// come to the host, where the next tokens are sampled; without the cache, the whole sequence is
// re-run each position and its logits read back.
import * as ort from 'onnxruntime-web/webgpu'
import { pastName, presentName } from '../src/export/onnx'
import { hostRng, sampleHost } from './workload'

export interface OrtModel {
  session: ort.InferenceSession
  kv: boolean
  nLayer: number; nHead: number; headDim: number; vocab: number
}

let configured = false

export async function createOrtSession(bytes: Uint8Array, kv: boolean, dims: { nLayer: number; nHead: number; nEmbd: number; vocab: number }): Promise<OrtModel> {
  if (!configured) {
    ort.env.wasm.wasmPaths = new URL('/ort/', location.href).href // served from node_modules/onnxruntime-web/dist
    ort.env.wasm.numThreads = 1
    ort.env.logLevel = 'error'
    configured = true
  }
  const names: string[] = []
  for (let l = 0; l < dims.nLayer; l++) names.push(presentName(l, 'key'), presentName(l, 'value'))
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
    preferredOutputLocation: kv
      ? { logits: 'cpu', ...Object.fromEntries(names.map((n) => [n, 'gpu-buffer' as const])) }
      : 'cpu',
  })
  return { session, kv, nLayer: dims.nLayer, nHead: dims.nHead, headDim: dims.nEmbd / dims.nHead, vocab: dims.vocab }
}

export function ortDevice(): GPUDevice | undefined {
  return (ort.env.webgpu as unknown as { device?: GPUDevice }).device
}

function ids(rows: number[][]): ort.Tensor {
  const N = rows.length
  const T = rows[0].length
  const data = new BigInt64Array(N * T)
  rows.forEach((r, n) => r.forEach((id, t) => { data[n * T + t] = BigInt(id) }))
  return new ort.Tensor('int64', data, [N, T])
}

/** N sequences (equal-length prompts) × L new tokens; resolves with the completions. */
export async function ortRollout(m: OrtModel, prompts: number[][], L: number, seed: number): Promise<number[][]> {
  const N = prompts.length
  const V = m.vocab
  const rand = hostRng(seed)
  const seqs = prompts.map((p) => [...p])
  if (!m.kv) {
    for (let k = 0; k < L; k++) {
      const out = await m.session.run({ input_ids: ids(seqs) })
      const T = seqs[0].length
      const logits = (await out.logits.getData()) as Float32Array
      const next = sampleHost(logits, N, V, (n) => (n * T + T - 1) * V, rand)
      seqs.forEach((s, n) => s.push(next[n]))
      for (const t of Object.values(out)) t.dispose()
    }
    return seqs.map((s) => s.slice(prompts[0].length))
  }
  // the Optimum layout of src/export/onnx.ts: no padding, so the mask is all ones
  const cacheFeeds = (T: number, seq: number) => ({
    attention_mask: ids(seqs.map(() => new Array(T).fill(1))),
    position_ids: ids(seqs.map(() => Array.from({ length: seq }, (_, i) => T - seq + i))),
  })
  let feeds: Record<string, ort.Tensor> = { input_ids: ids(seqs), ...cacheFeeds(seqs[0].length, seqs[0].length) }
  for (let l = 0; l < m.nLayer; l++) {
    for (const kind of ['key', 'value'] as const) feeds[pastName(l, kind)] = new ort.Tensor('float32', new Float32Array(0), [N, m.nHead, 0, m.headDim])
  }
  let held: ort.Tensor[] = []
  for (let k = 0; k < L; k++) {
    const out = await m.session.run(feeds)
    const seq = (feeds.input_ids.dims[1] as number)
    const logits = (await out.logits.getData()) as Float32Array
    const next = sampleHost(logits, N, V, (n) => (n * seq + seq - 1) * V, rand)
    seqs.forEach((s, n) => s.push(next[n]))
    held.forEach((t) => t.dispose())
    held = []
    out.logits.dispose()
    feeds = { input_ids: ids(next.map((id) => [id])), ...cacheFeeds(seqs[0].length, 1) }
    for (let l = 0; l < m.nLayer; l++) {
      for (const kind of ['key', 'value'] as const) {
        const t = out[presentName(l, kind)]
        feeds[pastName(l, kind)] = t
        held.push(t)
      }
    }
  }
  held.forEach((t) => t.dispose())
  return seqs.map((s) => s.slice(prompts[0].length))
}
