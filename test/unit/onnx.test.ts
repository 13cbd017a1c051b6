// The ONNX export (src/export/onnx.ts) run by onnxruntime-web's WASM execution provider in Node
// gives the engine's logits (CPU backend) to 1e-4: a random model with large weights (so the
// attention is sharp and the LayerNorm parameters matter), a fresh GPT-2 initialisation and the
// shipped addition model; with a KV cache, a prefill from empty pasts and then one or a few
// tokens at a time give the no-cache logits. A perturbed weight must show up as a difference.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-web'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { uniform } from '../../src/engine/rng'
import { exportGptOnnx, exportOnnx, onnxFromSafetensors, pastName, presentName } from '../../src/export/onnx'
import { loadInto, loadSafetensors, tensorsFromFlat } from '../../src/model/checkpoint'
import type { GPTConfig } from '../../src/model/config'
import { GPT } from '../../src/model/gpt'
import { CharTokenizer } from '../../src/model/tokenizer'

const TOL = 1e-4

beforeAll(() => {
  ort.env.wasm.numThreads = 1
  ort.env.logLevel = 'error'
})

/** The engine's full-vocabulary logits [B, T, V] for a batch of equal-length sequences. */
async function engineLogits(model: GPT, tokens: number[][]): Promise<Float32Array> {
  const B = tokens.length
  const T = tokens[0].length
  const a = model.activations(B, T)
  model.backend.write(a.tokens, tokens.flat())
  model.backend.write(a.targets, new Array(B * T).fill(0))
  const out = model.forward(B, T)
  return Float32Array.from(await model.backend.read(out.logits))
}

function ids(tokens: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(tokens.flat(), (t) => BigInt(t)), [tokens.length, tokens[0].length])
}

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] })
}

async function ortLogits(s: ort.InferenceSession, tokens: number[][]): Promise<Float32Array> {
  const out = await s.run({ input_ids: ids(tokens) })
  expect(out.logits.dims.slice(0, 2)).toEqual([tokens.length, tokens[0].length])
  return out.logits.data as Float32Array
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]))
  return m
}

/** Rows [t0, t1) of each sequence of a [B, T, V] array. */
function positions(logits: Float32Array, B: number, T: number, V: number, t0: number, t1: number): Float32Array {
  const out = new Float32Array(B * (t1 - t0) * V)
  for (let b = 0; b < B; b++) out.set(logits.subarray((b * T + t0) * V, (b * T + t1) * V), b * (t1 - t0) * V)
  return out
}

function randomTokens(B: number, T: number, V: number, seed: number): number[][] {
  return Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => Math.floor(uniform(seed, 7, b * T + t, 0) * V)))
}

/**
 * The KV-cache model, fed `tokens` in chunks of the given sizes (the first from empty pasts), gives
 * `expected` (the no-cache logits [B, T, V]) at every position; returns the largest difference.
 */
async function kvDiff(s: ort.InferenceSession, config: GPTConfig, tokens: number[][], chunks: number[], expected: Float32Array): Promise<number> {
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = config
  const B = tokens.length
  const T = tokens[0].length
  expect(chunks.reduce((a, b) => a + b, 0)).toBe(T)
  const feeds: Record<string, ort.Tensor> = {}
  for (let l = 0; l < L; l++) {
    feeds[pastName(l, 'key')] = new ort.Tensor('float32', new Float32Array(0), [B, NH, 0, C / NH])
    feeds[pastName(l, 'value')] = new ort.Tensor('float32', new Float32Array(0), [B, NH, 0, C / NH])
  }
  let worst = 0
  let at = 0
  for (const n of chunks) {
    const out = await s.run({
      ...feeds,
      input_ids: ids(tokens.map((row) => row.slice(at, at + n))),
      attention_mask: ids(tokens.map(() => new Array(at + n).fill(1))),
      position_ids: ids(tokens.map(() => Array.from({ length: n }, (_, i) => at + i))),
    })
    expect(out.logits.dims).toEqual([B, n, V])
    worst = Math.max(worst, maxAbsDiff(out.logits.data as Float32Array, positions(expected, B, T, V, at, at + n)))
    at += n
    for (let l = 0; l < L; l++) {
      for (const kind of ['key', 'value'] as const) {
        expect(out[presentName(l, kind)].dims).toEqual([B, NH, at, C / NH])
        feeds[pastName(l, kind)] = out[presentName(l, kind)]
      }
    }
  }
  return worst
}

const SMALL: GPTConfig = { vocabSize: 29, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 32 }

/** A model whose every parameter is uniform in ±scale (LayerNorm weights around 1). */
function scrambled(config: GPTConfig, seed: number, scale: number): GPT {
  const model = new GPT(new CpuBackend('f32'), config)
  const flat = new Float32Array(model.layout.total)
  for (const s of model.layout.specs) {
    const center = /ln_\w+\.weight$/.test(s.name) ? 1 : 0
    for (let i = 0; i < s.length; i++) flat[s.offset + i] = center + (uniform(seed, 5, s.offset + i, 0) * 2 - 1) * scale
  }
  model.loadFlat(flat)
  return model
}

describe('ONNX export, run by onnxruntime-web (WASM)', () => {
  const measured: Record<string, number> = {}
  afterAll(() => console.log('max |ONNX (onnxruntime-web WASM) − engine (CPU backend)| of logits:', JSON.stringify(measured)))

  it('a random model with large weights: logits match the engine, with and without a KV cache', async () => {
    const model = scrambled(SMALL, 11, 0.3)
    const tokens = randomTokens(3, SMALL.blockSize, SMALL.vocabSize, 1)
    const expected = await engineLogits(model, tokens)
    expect(maxAbs(expected)).toBeGreaterThan(1) // logits of a real size, not a near-zero fresh init
    const plain = await session(await exportGptOnnx(model, { kvCache: false }))
    expect(plain.inputNames).toEqual(['input_ids'])
    expect(plain.outputNames).toEqual(['logits'])
    const got = await ortLogits(plain, tokens)
    measured['random, no cache'] = maxAbsDiff(got, expected)
    expect(measured['random, no cache']).toBeLessThanOrEqual(TOL)
    // a shorter batch: positions 0..T-1 of the same model
    const short = tokens.map((r) => r.slice(0, 7))
    expect(maxAbsDiff(await ortLogits(plain, short), await engineLogits(model, short))).toBeLessThanOrEqual(TOL)

    const cached = await session(await exportGptOnnx(model, { kvCache: true }))
    expect(cached.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value',
      'past_key_values.1.key', 'past_key_values.1.value'])
    expect(cached.outputNames).toEqual(['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'])
    // prefill 5 positions, then one token at a time, then chunks of several (the mask's offset)
    measured['random, KV cache'] = Math.max(
      await kvDiff(cached, SMALL, tokens, [5, ...Array(10).fill(1), 3, 4, 10], expected),
      await kvDiff(cached, SMALL, tokens, [SMALL.blockSize], expected),
    )
    expect(measured['random, KV cache']).toBeLessThanOrEqual(TOL)
    await plain.release()
    await cached.release()
  })

  it('a fresh GPT-2 initialisation (model.initialize), config and tokenizer in the metadata', async () => {
    const model = new GPT(new CpuBackend('f32'), SMALL)
    model.initialize(3)
    const tokenizer = new CharTokenizer(' +/0123456789<=>?acehiknrstw')
    const tokens = randomTokens(4, 19, SMALL.vocabSize, 2)
    const expected = await engineLogits(model, tokens)
    const bytes = await exportGptOnnx(model, { kvCache: true, tokenizer, metadata: { task: 'addition' } })
    const s = await session(bytes)
    measured['fresh init, KV cache'] = await kvDiff(s, SMALL, tokens, [4, 1, 1, 1, 6, 1, 5], expected)
    expect(measured['fresh init, KV cache']).toBeLessThanOrEqual(TOL)
    // metadata_props are plain strings in the file (onnxruntime-web does not expose them)
    const text = new TextDecoder('latin1').decode(bytes.subarray(0, 4096))
    expect(text).toContain(JSON.stringify(SMALL))
    expect(text).toContain(JSON.stringify(tokenizer.toJSON()))
    expect(text).toContain('addition')
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x08, 8]) // ir_version 8
    await s.release()
  })

  it('public/models/addition.safetensors: logits match the engine on task text', async () => {
    const file = new Uint8Array(readFileSync(join(__dirname, '../../public/models/addition.safetensors')))
    const ck = loadSafetensors(file)
    const model = new GPT(new CpuBackend('f32'), ck.config)
    loadInto(model, ck)
    const texts = ['47+85=?<think>7+5=12 c1 4+8+1=', '123+9=?<think>3+9=12 c1 2+0+1', '5+77=?</think><answer>82</answ']
    const n = Math.min(...texts.map((t) => t.length))
    const tokens = texts.map((t) => ck.tokenizer.encode(t.slice(0, n)))
    const expected = await engineLogits(model, tokens)
    const plain = await session(onnxFromSafetensors(file, { kvCache: false }))
    measured['addition, no cache'] = maxAbsDiff(await ortLogits(plain, tokens), expected)
    expect(measured['addition, no cache']).toBeLessThanOrEqual(TOL)
    const cached = await session(onnxFromSafetensors(file, { kvCache: true }))
    measured['addition, KV cache'] = await kvDiff(cached, ck.config, tokens, [14, ...Array(n - 14).fill(1)], expected)
    expect(measured['addition, KV cache']).toBeLessThanOrEqual(TOL)
    // the full context (96 positions) in one batch
    const long = randomTokens(2, ck.config.blockSize, ck.config.vocabSize, 4)
    measured['addition, full context'] = maxAbsDiff(await ortLogits(plain, long), await engineLogits(model, long))
    expect(measured['addition, full context']).toBeLessThanOrEqual(TOL)
    await plain.release()
    await cached.release()
  })

  it('the comparison sees a wrong export: one perturbed weight', async () => {
    const model = scrambled(SMALL, 11, 0.3)
    const tokens = randomTokens(2, 12, SMALL.vocabSize, 5)
    const expected = await engineLogits(model, tokens)
    const weights = tensorsFromFlat(SMALL, model.backend.alignment, await model.readFlat())
    const w = weights.get('h.1.attn.c_attn.weight')!
    w[5] += 0.05
    const s = await session(exportOnnx(SMALL, weights, { kvCache: false }))
    expect(maxAbsDiff(await ortLogits(s, tokens), expected)).toBeGreaterThan(10 * TOL)
    await s.release()
  })

  it('grpo-lab export --format onnx writes a file that onnxruntime-web runs; bad flags are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-onnx-'))
    const model = join(__dirname, '../../public/models/addition.safetensors')
    const out = join(dir, 'addition.onnx')
    expect(await main(['export', '--format', 'onnx', '--model', model, '--out', out, '--kv-cache'])).toBe(0)
    const s = await session(new Uint8Array(readFileSync(out)))
    expect(s.outputNames).toContain('present.1.value')
    await s.release()
    expect(await main(['export', '--format', 'tflite', '--model', model])).toBe(2)
    expect(await main(['export', '--format', 'onnx'])).toBe(2)
    expect(await main(['export', '--kv-cache=yes', '--model', model])).toBe(2)
  })

  it('refuses missing or wrongly sized weights and a tokenizer of another size', () => {
    const model = new GPT(new CpuBackend('f32'), SMALL)
    const weights = tensorsFromFlat(SMALL, 1, new Float32Array(model.layout.total))
    const missing = new Map(weights)
    missing.delete('wpe')
    expect(() => exportOnnx(SMALL, missing, { kvCache: false })).toThrow(/weight 'wpe' is missing/)
    const short = new Map(weights).set('ln_f.bias', new Float32Array(3))
    expect(() => exportOnnx(SMALL, short, { kvCache: false })).toThrow(/'ln_f.bias' has 3 values, the config needs 32/)
    expect(() => exportOnnx(SMALL, weights, { kvCache: false, tokenizer: new CharTokenizer('abc') })).toThrow(/tokenizer has 4 ids/)
    expect(() => exportOnnx({ ...SMALL, nHead: 5 }, weights, { kvCache: false })).toThrow(/nEmbd/)
  })
})
