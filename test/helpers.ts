// Shared by the tests: backends, random data, comparisons, probes.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeEach, expect } from 'vitest'
import type { Backend, Tensor } from '../src/engine/backend'
import { decodeScratchLayout, view, whole } from '../src/engine/backend'
import { createNodeWebGPUBackend } from '../src/engine/node'
import { uniform } from '../src/engine/rng'
import type { WebGPUBackend } from '../src/engine/webgpu/webgpuBackend'
import type { GPT } from '../src/model/gpt'
import { EOS_ID } from '../src/model/tokenizer'
import type { VitestReport } from '../scripts/test-tally.mjs'

const ERROR_FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal']
/** errors raised outside any scope (between tests, in a device callback), per device */
const uncaptured = new WeakMap<GPUDevice, string[]>()

/** Open one error scope of each kind; every WebGPU error until closeGpuErrorScopes lands in them. */
export function openGpuErrorScopes(gpu: WebGPUBackend): void {
  for (const filter of ERROR_FILTERS) gpu.device.pushErrorScope(filter)
}

/**
 * Submit what is recorded (an encoder's errors surface at finish), close the scopes of
 * openGpuErrorScopes and throw naming every error they caught, and any uncaptured one.
 */
export async function closeGpuErrorScopes(gpu: WebGPUBackend): Promise<void> {
  try { gpu.flush() } finally {
    const errors: string[] = []
    for (let i = 0; i < ERROR_FILTERS.length; i++) {
      const err = await gpu.device.popErrorScope()
      if (err) errors.push(err.message)
    }
    errors.push(...(uncaptured.get(gpu.device)?.splice(0) ?? []))
    if (errors.length) throw new Error(`WebGPU reported ${errors.length} error(s):\n${errors.join('\n')}`)
  }
}

async function acquireGpu(): Promise<WebGPUBackend> {
  const gpu = await createNodeWebGPUBackend()
  const errors: string[] = []
  uncaptured.set(gpu.device, errors)
  gpu.device.addEventListener('uncapturederror', (e) => { errors.push((e as GPUUncapturedErrorEvent).error.message) })
  void gpu.device.lost.then((info) => { if (info.reason !== 'destroyed') errors.push(`device lost: ${info.message}`) })
  return gpu
}

/**
 * The WebGPU backend of a test file. Call it at the top level of the file or of a describe
 * block, where Vitest collects hooks (hooks registered inside beforeAll or a test never run),
 * and call the function it returns inside the tests. The device is acquired once, lazily; a
 * missing adapter fails every test with the reason (never a skip). Each test's work runs
 * inside error scopes, and any WebGPU error fails that test.
 */
export function useGpu(): () => WebGPUBackend {
  let acquiring: Promise<WebGPUBackend> | undefined
  let gpu: WebGPUBackend | undefined
  let scopesOpen = false
  beforeEach(async () => {
    gpu = await (acquiring ??= acquireGpu())
    openGpuErrorScopes(gpu)
    scopesOpen = true
  })
  // Vitest runs this even when beforeEach failed, so close only what was opened.
  afterEach(async () => {
    if (!scopesOpen || !gpu) return
    scopesOpen = false
    await closeGpuErrorScopes(gpu)
  })
  afterAll(async () => {
    const errors = gpu ? uncaptured.get(gpu.device)?.splice(0) ?? [] : []
    gpu?.destroy()
    expect(errors, 'WebGPU errors after the last test').toEqual([])
  })
  return () => {
    if (!gpu) throw new Error('useGpu(): the backend is only available inside a test')
    return gpu
  }
}

/** Deterministic pseudo-random values in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  const a = new Float64Array(n)
  for (let i = 0; i < n; i++) a[i] = (uniform(seed, 99, i, 0) * 2 - 1) * scale
  return a
}

export function randomInts(n: number, seed: number, max: number): Uint32Array {
  const a = new Uint32Array(n)
  for (let i = 0; i < n; i++) a[i] = Math.floor(uniform(seed, 98, i, 0) * max)
  return a
}

export function upload(be: Backend, data: ArrayLike<number>, dtype: 'f32' | 'u32' = 'f32', label = 'data'): Tensor {
  const t = whole(be.createBuffer(data.length, dtype, label))
  be.write(t, data)
  return t
}

export function zeros(be: Backend, n: number, label = 'zeros', dtype: 'f32' | 'u32' = 'f32'): Tensor {
  const t = whole(be.createBuffer(n, dtype, label))
  be.fill(t, 0)
  return t
}

/** max |a − b| / (atol + rtol·|b|) ≤ 1, reported with the worst index; a NaN anywhere fails. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = ''): void {
  expect(actual.length).toBe(expected.length)
  let worst = 0; let at = -1
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i])
    const err = diff === 0 ? 0 : diff / (atol + rtol * Math.abs(expected[i])) // 0/0 with atol 0 is a match
    if (Number.isNaN(err)) { worst = NaN; at = i; break } // NaN compares false to everything: stop at it
    if (err > worst) { worst = err; at = i }
  }
  if (!(worst <= 1)) {
    throw new Error(`${what} differs at ${at}: ${actual[at]} vs ${expected[at]} (atol ${atol}, rtol ${rtol})`)
  }
}

/** Greedy decoding by whole forward passes over each text so far: no KV cache, no sampler. */
export async function greedyByForward(model: GPT, prompts: number[][], maxNew: number): Promise<number[][]> {
  const be = model.backend
  const V = model.config.vocabSize
  const seqs = prompts.map((p) => [...p])
  const completions = prompts.map((): number[] => [])
  const open = new Set(prompts.keys())
  for (let step = 0; step < maxNew && open.size > 0; step++) {
    const T = Math.max(...seqs.map((s) => s.length))
    const acts = model.activations(seqs.length, T)
    // right padding: a causal model's logits at a position never see what follows it
    be.write(acts.tokens, seqs.flatMap((s) => [...s, ...new Array(T - s.length).fill(EOS_ID)]))
    be.write(acts.targets, new Array(seqs.length * T).fill(0))
    model.forward(seqs.length, T)
    const logits = await be.read(acts.logits)
    for (const i of [...open]) {
      const row = (i * T + seqs[i].length - 1) * V
      let best = 0
      for (let v = 1; v < V; v++) if (logits[row + v] > logits[row + best]) best = v
      seqs[i].push(best); completions[i].push(best)
      if (best === EOS_ID) open.delete(i)
    }
  }
  return completions
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Run one file of test/probes/ (tests meant to fail) in a child Vitest and return its JSON report. */
export function runProbe(file: string, env: Record<string, string> = {}): VitestReport {
  const report = join(mkdtempSync(join(tmpdir(), 'grpo-lab-probe-')), 'vitest.json')
  const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs')
  const r = spawnSync(process.execPath, [vitest, 'run', '--config', 'test/probes/vitest.config.ts', `test/probes/${file}`,
    '--reporter=json', `--outputFile.json=${report}`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 5 * 60_000 })
  try { return JSON.parse(readFileSync(report, 'utf8')) as VitestReport } catch (e) {
    throw new Error(`the probe ${file} wrote no report (${(e as Error).message}); its output:\n${r.stdout}${r.stderr}`)
  }
}

/** N sequences of random parameters through the fused decoder on one backend, `chunk` positions per
 *  call (0: all): [tokens, done, kCache, vCache, last logits]. The kernel twin tests of every backend. */
export function fusedDecode(be: Backend, N: number, C: number, NH: number, L: number, temperature: number, topK: number, chunk: number, V: number): Tensor[] {
  const maxLen = 9; const blockSize = 12
  const offsetList: number[] = []
  let size = 0
  const place = (n: number) => { offsetList.push(size); size += Math.ceil(n / 64) * 64 }
  for (const n of [V * C, blockSize * C, C, C, V * C]) place(n)
  for (let l = 0; l < L; l++) for (const n of [C, C, 3 * C * C, 3 * C, C * C, C, C, C, 4 * C * C, 4 * C, 4 * C * C, C]) place(n)
  const S = decodeScratchLayout(N, C, V, NH, maxLen)
  const params = upload(be, randomArray(size, 60, 0.3))
  const lens = Uint32Array.from({ length: N }, (_, n) => 1 + (n % 4))
  const prompt = new Uint32Array(N * maxLen)
  lens.forEach((len, n) => { for (let t = 0; t < len; t++) prompt[n * maxLen + t] = 1 + ((n + t) % (V - 1)) })
  const tokens = upload(be, prompt, 'u32'); const promptLens = upload(be, lens, 'u32')
  const done = zeros(be, N, 'done', 'u32')
  const offsets = upload(be, Uint32Array.from(offsetList), 'u32')
  const kCache = zeros(be, L * N * C * maxLen); const vCache = zeros(be, L * N * C * maxLen)
  const scratch = zeros(be, S.total)
  for (let pos = 0; pos < maxLen - 1; pos += chunk || maxLen) {
    be.decodePositions({ tokens, params, offsets, offsetList, kCache, vCache, scratch, promptLens, done,
      N, V, C, NH, L, maxLen, posBegin: pos, posEnd: Math.min(maxLen - 1, pos + (chunk || maxLen)), maxNew: 6,
      temperature, topK, eosId: 0, seed: 99, stream: 4 })
  }
  return [tokens, done, kCache, vCache, view(scratch.buffer, S.logits, N * V)]
}
