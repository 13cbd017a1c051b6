// Hostile checkpoint files: the safetensors reader gets random bytes, every truncation of a valid
// file, header lengths that lie (up to 2^64 − 1), offsets out of range or overlapping, shapes that
// overflow, wrong dtypes, non-finite weights, huge and deeply nested JSON. Each case ends in a
// CheckpointError naming what is wrong, within MAX_CASE_MS, and never in a half-loaded model.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import {
  type Checkpoint, CheckpointError, flatFromTensors, loadInto, loadSafetensors, MAX_HEADER_BYTES, saveSafetensors, tensorsFromFlat,
} from '../../src/model/checkpoint'
import type { GPTConfig } from '../../src/model/config'
import { GPT } from '../../src/model/gpt'
import { paramLayout } from '../../src/model/params'
import { CharTokenizer } from '../../src/model/tokenizer'
import { FUZZ_SEED, FuzzLog } from './fuzzing'

const TINY: GPTConfig = { vocabSize: 3, blockSize: 2, nLayer: 1, nHead: 1, nEmbd: 4 }
const tinyValues = Float32Array.from({ length: paramLayout(TINY, 1).total }, (_, i) => ((i % 7) - 3) / 10)
const tiny: Checkpoint = { config: TINY, tokenizer: new CharTokenizer('ab'), tensors: tensorsFromFlat(TINY, 1, tinyValues), metadata: { note: 'fuzz' } }
const TINY_FILE = saveSafetensors(tiny)
const SHIPPED = new Uint8Array(readFileSync(join(__dirname, '../../public/models/addition.safetensors')))

const log = new FuzzLog([CheckpointError], /^checkpoint: .+: .+/s)
afterAll(() => console.log(log.summary('safetensors reader')))

/** A file's header (parsed) and its data section. */
function split(file: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true))
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), data: file.subarray(8 + n) }
}

/** A file of this header (an object, or raw text) and data; the length field may be made to lie. */
function build(header: unknown, data: Uint8Array, headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header)
  const h = new TextEncoder().encode(text)
  const out = new Uint8Array(8 + h.length + data.length)
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true)
  out.set(h, 8)
  out.set(data, 8 + h.length)
  return out
}

/** The tiny file with one tensor's header entry changed. */
function withEntry(name: string, change: (entry: Record<string, unknown>) => unknown): Uint8Array {
  const { header, data } = split(TINY_FILE)
  header[name] = change({ ...(header[name] as Record<string, unknown>) })
  return build(header, data)
}

const read = (bytes: Uint8Array) => () => loadSafetensors(bytes)

describe('the safetensors reader refuses hostile files', () => {
  it('the tiny file and the shipped model load (the fuzzers start from valid files)', () => {
    expect(Array.from(log.run(read(TINY_FILE))!.tensors.get('wte')!)).toEqual(Array.from(tiny.tensors.get('wte')!))
    expect(log.run(read(SHIPPED))!.config.nLayer).toBeGreaterThan(0)
  })

  it('every truncation of a valid file', () => {
    for (let n = 0; n < TINY_FILE.length; n++) log.refuse(read(TINY_FILE.subarray(0, n)))
    // the shipped model: every length around the header and each tensor's boundaries, and a seeded sample
    const { header } = split(SHIPPED)
    const dataStart = SHIPPED.length - split(SHIPPED).data.length
    const cuts = new Set<number>()
    for (let n = 0; n <= 16; n++) cuts.add(n)
    for (const e of Object.values(header)) {
      const offsets = (e as { data_offsets?: number[] }).data_offsets
      for (const at of offsets ?? [0]) for (const d of [-1, 0, 1]) cuts.add(dataStart + at + d)
    }
    fc.sample(fc.integer({ min: 0, max: SHIPPED.length - 1 }), { seed: FUZZ_SEED, numRuns: 200 }).forEach((n) => cuts.add(n))
    cuts.delete(SHIPPED.length)
    for (const n of cuts) if (n >= 0 && n < SHIPPED.length) log.refuse(read(SHIPPED.subarray(0, n)))
  })

  it('header lengths that lie, up to 2^64 − 1', () => {
    const { header, data } = split(TINY_FILE)
    const real = BigInt(new TextEncoder().encode(JSON.stringify(header)).length)
    for (const len of [0n, 1n, real - 1n, real + 1n, real + BigInt(data.length) + 1n, BigInt(MAX_HEADER_BYTES) + 1n,
      2n ** 32n, 2n ** 53n - 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      log.refuse(read(build(header, data, len)), /header length|header:|data section|tensor/)
    }
    expect(log.refuse(read(build(header, data, 2n ** 64n - 1n)))).toContain('18446744073709551615 bytes does not fit')
    expect(log.refuse(read(build(header, data, 2n ** 53n + 1n)))).toContain('9007199254740993 bytes')
  })

  it('random bytes, and random bytes behind a length that fits', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => { log.refuse(read(bytes)) }), { seed: FUZZ_SEED, numRuns: 300 })
    fc.assert(fc.property(fc.uint8Array({ minLength: 2, maxLength: 2048 }), fc.nat(), (body, cut) => {
      const n = 2 + (cut % (body.length - 1))
      log.refuse(read(build(new TextDecoder().decode(body.subarray(0, n)), body.subarray(n))))
    }), { seed: FUZZ_SEED, numRuns: 300 })
  })

  it('random JSON as the header, and random JSON in place of one tensor entry', () => {
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), (text) => { log.refuse(read(build(text, new Uint8Array(16)))) }), { seed: FUZZ_SEED, numRuns: 300 })
    const names = paramLayout(TINY, 1).specs.map((s) => s.name)
    fc.assert(fc.property(fc.constantFrom(...names), fc.constantFrom('dtype', 'shape', 'data_offsets', 'entry'), fc.jsonValue({ maxDepth: 3 }),
      (name, field, value) => {
        const original = (split(TINY_FILE).header[name] as Record<string, unknown>)
        if (field !== 'entry' && JSON.stringify(original[field]) === JSON.stringify(value)) return
        log.refuse(read(withEntry(name, (e) => (field === 'entry' ? value : { ...e, [field]: value }))))
      }), { seed: FUZZ_SEED, numRuns: 400 })
  })

  it('flipped bytes anywhere: a clean refusal or the whole model, never a part', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat({ max: TINY_FILE.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (flips) => {
        const bytes = TINY_FILE.slice()
        for (const [at, v] of flips) bytes[at] = v
        const ck = log.run(read(bytes))
        if (ck) {
          expect(ck.config).toEqual(TINY)
          expect([...ck.tensors.keys()]).toEqual(paramLayout(TINY, 1).specs.map((s) => s.name))
          for (const t of ck.tensors.values()) expect(t.every(Number.isFinite)).toBe(true)
        }
      }), { seed: FUZZ_SEED, numRuns: 400 })
  })

  it('offsets out of range, reversed, overlapping, leaving holes, or not integers', () => {
    const { header, data } = split(TINY_FILE)
    const wte = (header.wte as { data_offsets: number[] }).data_offsets
    const cases: [unknown, RegExp][] = [
      [[0, data.length + 4], /outside|needs/], [[-4, wte[1]], /data_offsets/], [[wte[1], wte[0]], /outside/],
      [[0.5, wte[1]], /data_offsets/], [[0, 2 ** 53 + 1], /data_offsets/], [[0, 1e300], /data_offsets/],
      [['0', String(wte[1])], /data_offsets/], [[0], /data_offsets/], [null, /data_offsets/], [[0, wte[1], 4], /data_offsets/],
    ]
    for (const [offsets, why] of cases) log.refuse(read(withEntry('wte', (e) => ({ ...e, data_offsets: offsets }))), why)
    // wpe moved onto wte's bytes: an overlap (and a hole where wpe was)
    const wpeLen = (header.wpe as { data_offsets: number[] }).data_offsets.reduce((a, b) => b - a)
    log.refuse(read(withEntry('wpe', (e) => ({ ...e, data_offsets: [0, wpeLen] }))), /overlaps/)
    // one spare byte at the end of the data, or a gap between two tensors
    log.refuse(read(build(header, new Uint8Array([...data, 0, 0, 0, 0]))), /data section.*cover/)
    const shifted = structuredClone(header) as Record<string, { data_offsets?: number[] }>
    for (const e of Object.values(shifted)) if (e.data_offsets && e.data_offsets[0] >= wte[1]) e.data_offsets = e.data_offsets.map((x) => x + 4)
    const gap = new Uint8Array(data.length + 4)
    gap.set(data.subarray(0, wte[1])); gap.set(data.subarray(wte[1]), wte[1] + 4)
    log.refuse(read(build(shifted, gap)), /leaves bytes/)
  })

  it('shapes that overflow or do not fit, and wrong dtypes', () => {
    for (const shape of [[2 ** 31, 2 ** 31, 2 ** 31], [1e308], [2 ** 53 + 1], [-1, 12], [1.5, 8], [[3], 4], ['3', 4], {}, null,
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 12], [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]]) {
      log.refuse(read(withEntry('wte', (e) => ({ ...e, shape }))), /shape/)
    }
    log.refuse(read(withEntry('wte', (e) => ({ ...e, shape: [4, 3] }))), /the config needs \[3,4\]/)
    for (const dtype of ['F16', 'BF16', 'F64', 'I32', 'f32', 'F32 ', 'constructor', '__proto__', 7, null, ['F32']]) {
      log.refuse(read(withEntry('wte', (e) => ({ ...e, dtype }))), /dtype.*allowed: F32/)
    }
    log.refuse(read(withEntry('wte', (e) => ({ ...e, extra: 1 }))), /unknown field "extra"/)
  })

  it('non-finite weights are refused naming the tensor', () => {
    const { header, data } = split(TINY_FILE)
    const at = (header['h.0.mlp.c_fc.weight'] as { data_offsets: number[] }).data_offsets[0]
    for (const bad of [NaN, Infinity, -Infinity]) {
      const d = data.slice()
      new DataView(d.buffer).setFloat32(at + 8, bad, true)
      log.refuse(read(build(header, d)), new RegExp(`tensor "h\\.0\\.mlp\\.c_fc\\.weight": holds ${bad} at index 2`))
    }
  })

  it('names twice, tensors missing or extra, metadata that is not the lab’s', () => {
    const { header, data } = split(TINY_FILE)
    const text = JSON.stringify(header)
    const wpe = JSON.stringify(header.wpe)
    log.refuse(read(build(text.replace(`"wpe":${wpe}`, `"wpe":${wpe},"wpe":${wpe}`), data)), /"wpe": is named twice/)
    const { 'ln_f.bias': _dropped, ...missing } = header
    log.refuse(read(build(missing, data)), /data section|"ln_f.bias"/)
    const meta = header.__metadata__ as Record<string, string>
    const withMeta = (m: unknown) => build({ ...header, __metadata__: m }, data)
    const cases: [unknown, RegExp][] = [
      [undefined, /metadata: is missing/], [[], /metadata: is \[\]/], [{ ...meta, format: 'other' }, /metadata format/],
      [{ ...meta, step: 4 }, /metadata "step": is 4; allowed: a string/], [{ ...meta, config: '{' }, /metadata config: not valid JSON/],
      [{ ...meta, config: 'null' }, /metadata config: is null/], [{ ...meta, config: JSON.stringify({ ...TINY, vocabSize: 1e9 }) }, /vocabSize/],
      [{ ...meta, config: JSON.stringify({ ...TINY, nEmbd: 8 }) }, /tensor "wte" shape/],
      [{ ...meta, config: '['.repeat(100) + ']'.repeat(100) }, /metadata config: JSON nested/],
      [{ ...meta, tokenizer: JSON.stringify({ type: 'char', chars: 'abc' }) }, /metadata tokenizer: has 4 ids but config.vocabSize is 3/],
      [{ ...meta, tokenizer: JSON.stringify({ type: 'char', chars: 'aa' }) }, /metadata tokenizer: tokenizer: character "a" appears twice/],
      [{ ...meta, tokenizer: JSON.stringify({ type: 'char', chars: 'x'.repeat(100_000) }) }, /metadata tokenizer: 100\d+ characters/],
    ]
    for (const [m, why] of cases) log.refuse(read(withMeta(m)), why)
    // an extra tensor that covers bytes of its own is still not a parameter of this model
    const extra = build({ ...header, extra: { dtype: 'F32', shape: [1], data_offsets: [data.length, data.length + 4] } }, new Uint8Array([...data, 0, 0, 0, 0]))
    log.refuse(read(extra), /tensor "extra": is not a parameter/)
  })

  it('huge and deeply nested JSON headers are refused quickly', () => {
    const { header, data } = split(TINY_FILE)
    const tenMB = JSON.stringify({ ...header, junk: { dtype: 'F32', shape: [0], data_offsets: [0, 0], pad: 'x'.repeat(10 * 2 ** 20) } })
    log.refuse(read(build(tenMB, data)), /unknown field "pad"/)
    log.refuse(read(build(' '.repeat(MAX_HEADER_BYTES + 1), data)), /header length/)
    log.refuse(read(build('['.repeat(MAX_HEADER_BYTES / 2) + ']'.repeat(MAX_HEADER_BYTES / 2), data)), /nested more than/)
    log.refuse(read(build(`{"a":${'{"a":'.repeat(1000)}1${'}'.repeat(1001)}`, data)), /nested more than/)
    // a million names in a header under the cap (JSON.parse alone would take seconds)
    const manyNames = `{${Array.from({ length: 1_000_000 }, (_, i) => `"${i.toString(36)}":0`).join(',')}}`
    expect(manyNames.length).toBeLessThan(MAX_HEADER_BYTES)
    log.refuse(read(build(manyNames, data)), /header: a JSON object with more than 10001 members/)
    // a 10 MB metadata string is legal safetensors: it loads, in bounded time
    const big = log.run(read(build({ ...header, __metadata__: { ...(header.__metadata__ as object), note: 'y'.repeat(10 * 2 ** 20) } }, data)))
    expect(big!.metadata.note).toHaveLength(10 * 2 ** 20)
  })

  it('a refused checkpoint leaves the model as it was (no half-loaded model)', async () => {
    const model = new GPT(new CpuBackend(), TINY)
    model.initialize(3)
    const before = Array.from(await model.readFlat())
    const partial: Checkpoint = { ...tiny, tensors: new Map([...tiny.tensors].filter(([name]) => name !== 'ln_f.bias')) }
    expect(() => loadInto(model, partial)).toThrow(/'ln_f.bias' is missing/)
    expect(Array.from(await model.readFlat())).toEqual(before)
    loadInto(model, loadSafetensors(TINY_FILE))
    expect(Array.from(await model.readFlat())).toEqual(Array.from(flatFromTensors(TINY, model.backend.alignment, tiny.tensors)))
  })
})
