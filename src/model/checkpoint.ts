// Checkpoints as safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the data.
// The model config and the tokenizer travel in the header's __metadata__ (strings only).

import { type GPTConfig, validateConfig } from './config'
import { paramLayout } from './params'
import { CharTokenizer } from './tokenizer'
import { parseUntrustedJson, topLevelKeys } from './untrustedJson'

export const CHECKPOINT_FORMAT = 'grpo-lab/gpt-v1'

export interface Checkpoint {
  config: GPTConfig
  tokenizer: CharTokenizer
  /** parameters in the layout of paramLayout(config, 1): no padding */
  tensors: Map<string, Float32Array>
  /** free-form extra metadata (string values) */
  metadata: Record<string, string>
}

export class CheckpointError extends Error {}

/** Flat (backend-aligned) parameters → named tensors. */
export function tensorsFromFlat(config: GPTConfig, alignment: number, flat: ArrayLike<number>): Map<string, Float32Array> {
  const layout = paramLayout(config, alignment)
  const out = new Map<string, Float32Array>()
  for (const s of layout.specs) out.set(s.name, Float32Array.from({ length: s.length }, (_, i) => flat[s.offset + i]))
  return out
}

/** Named tensors → flat parameters in the backend's aligned layout. */
export function flatFromTensors(config: GPTConfig, alignment: number, tensors: Map<string, Float32Array>): Float32Array {
  const layout = paramLayout(config, alignment)
  const flat = new Float32Array(layout.total)
  for (const s of layout.specs) {
    const t = tensors.get(s.name)
    if (!t) throw new CheckpointError(`checkpoint: tensor '${s.name}' is missing`)
    if (t.length !== s.length) throw new CheckpointError(`checkpoint: tensor '${s.name}' has ${t.length} values, the config needs ${s.length}`)
    flat.set(t, s.offset)
  }
  return flat
}

export function saveSafetensors(ck: Checkpoint): Uint8Array {
  const tensors = paramLayout(ck.config, 1).specs.map((s) => {
    const t = ck.tensors.get(s.name)
    if (!t || t.length !== s.length) throw new CheckpointError(`checkpoint: tensor '${s.name}' is missing or has the wrong size`)
    return { name: s.name, shape: s.shape, data: t }
  })
  return encodeSafetensors(tensors, {
    ...ck.metadata,
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(ck.config),
    tokenizer: JSON.stringify(ck.tokenizer.toJSON()),
  })
}

export interface NamedTensor { name: string; shape: number[]; data: Float32Array }

/** float32 tensors, in this order, as a safetensors file with the given __metadata__. */
export function encodeSafetensors(tensors: NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata }
  let offset = 0
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] }
    offset += t.data.length * 4
  }
  let json = JSON.stringify(header)
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' '
  const headerBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + headerBytes.length + offset)
  const dv = new DataView(out.buffer)
  dv.setBigUint64(0, BigInt(headerBytes.length), true)
  out.set(headerBytes, 8)
  let at = 8 + headerBytes.length
  for (const t of tensors) {
    // safetensors is little-endian; so is every platform WebGPU runs on
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at)
    at += t.data.byteLength
  }
  return out
}

/** Safetensors dtypes by name, with their item sizes: the lab reads F32 only, and names the others. */
const SAFETENSORS_DTYPES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
}
export const SUPPORTED_DTYPE = 'F32'
/** A header longer than this is refused before it is decoded (the lab's own are a few kB). */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024
const MAX_HEADER_DEPTH = 8
/** The lab's models have 4 + 12 per layer; other safetensors files rarely more than a few thousand. */
const MAX_TENSORS = 10_000
const MAX_RANK = 8

interface TensorEntry { name: string; shape: number[]; begin: number; end: number }

function fail(where: string, what: string): never { throw new CheckpointError(`checkpoint: ${where}: ${what}`) }
const tensorAt = (name: string) => `tensor ${shown(name)}`
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60)

/** The 8-byte header length and the header JSON, every length checked against the file's. */
function readHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail('file', `${bytes.length} bytes is too short to be safetensors; allowed: an 8-byte header length, the header, the data`)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // a u64 read as BigInt: values past 2^53 are compared exactly, never rounded
  const headerLen = dv.getBigUint64(0, true)
  const room = BigInt(bytes.length - 8)
  if (headerLen < 2n || headerLen > room || headerLen > BigInt(MAX_HEADER_BYTES)) {
    fail('header length', `${headerLen} bytes does not fit: the file has ${room} bytes after the length field, and a header may have ` +
      `2 to ${MAX_HEADER_BYTES} bytes (not safetensors, or truncated)`)
  }
  const n = Number(headerLen)
  let text = ''
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))
  } catch {
    fail('header', 'is not valid JSON (its bytes are not UTF-8 text); allowed: a JSON object')
  }
  // members: the tensors and __metadata__
  const parsed = parseUntrustedJson(text, { maxChars: MAX_HEADER_BYTES, maxDepth: MAX_HEADER_DEPTH, maxMembers: MAX_TENSORS + 1 })
  if ('error' in parsed) return fail('header', parsed.error)
  if (!isObject(parsed.value)) return fail('header', `is ${shown(parsed.value)}; allowed: a JSON object of tensor names`)
  const seen = new Set<string>()
  for (const k of topLevelKeys(text)) {
    if (seen.has(k)) fail(tensorAt(k), 'is named twice in the header; allowed: unique names')
    seen.add(k)
  }
  return { header: parsed.value, dataStart: 8 + n }
}

/** One tensor's header entry: dtype, shape (no overflow: its byte size is checked against the data
 *  as it is multiplied), and data_offsets inside the data section. */
function tensorEntry(name: string, v: unknown, dataLen: number): TensorEntry {
  const where = tensorAt(name)
  if (!isObject(v)) fail(where, `is ${shown(v)}; allowed: {"dtype", "shape", "data_offsets"}`)
  const e = v as Record<string, unknown>
  const extra = Object.keys(e).find((k) => !['dtype', 'shape', 'data_offsets'].includes(k))
  if (extra !== undefined) fail(where, `has an unknown field ${shown(extra)}; allowed: dtype, shape, data_offsets`)
  if (typeof e.dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPES, e.dtype)) {
    fail(`${where} dtype`, `${shown(e.dtype)} is not a safetensors dtype; allowed: ${SUPPORTED_DTYPE}`)
  }
  if (e.dtype !== SUPPORTED_DTYPE) fail(`${where} dtype`, `${e.dtype} is not supported; allowed: ${SUPPORTED_DTYPE}`)
  const itemSize = SAFETENSORS_DTYPES[e.dtype as string]
  const shape = e.shape
  if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every(isIndex)) {
    fail(`${where} shape`, `${shown(shape)}; allowed: a list of at most ${MAX_RANK} non-negative integers`)
  }
  let bytesNeeded = itemSize
  for (const d of shape as number[]) {
    bytesNeeded *= d
    if (bytesNeeded > dataLen) fail(`${where} shape`, `${shown(shape)} needs more than the ${dataLen} bytes of the data section`)
  }
  const offsets = e.data_offsets
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    fail(`${where} data_offsets`, `${shown(offsets)}; allowed: [begin, end], integers from 0 to ${dataLen}`)
  }
  const [begin, end] = offsets as [number, number]
  if (begin > end || end > dataLen) fail(`${where} data_offsets`, `[${begin}, ${end}] lies outside the ${dataLen} bytes of the data section`)
  if (end - begin !== bytesNeeded) {
    fail(`${where} data_offsets`, `[${begin}, ${end}] holds ${end - begin} bytes; shape ${shown(shape)} of ${e.dtype} needs ${bytesNeeded}`)
  }
  return { name, shape: shape as number[], begin, end }
}

/** The data section is indexed entirely, without overlaps or holes (the safetensors rule that
 *  keeps a file from hiding other content). */
function checkCoverage(entries: TensorEntry[], dataLen: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end)
  let at = 0
  for (const t of sorted) {
    if (t.begin < at) fail(`${tensorAt(t.name)} data_offsets`, `[${t.begin}, ${t.end}] overlaps the tensor before it, which ends at ${at}; allowed: disjoint ranges`)
    if (t.begin > at) fail(`${tensorAt(t.name)} data_offsets`, `[${t.begin}, ${t.end}] leaves bytes ${at}–${t.begin} unused; allowed: ranges that cover the data section without holes`)
    at = t.end
  }
  if (at !== dataLen) fail('data section', `${dataLen} bytes, of which the tensors cover ${at}; allowed: exactly the bytes the tensors name`)
}

/** __metadata__: strings only (safetensors), with the lab's format, model config and tokenizer. */
function readMetadata(v: unknown): { config: GPTConfig; tokenizer: CharTokenizer; metadata: Record<string, string> } {
  if (v === undefined) fail('metadata', `is missing; allowed: __metadata__ with format "${CHECKPOINT_FORMAT}", config and tokenizer (a checkpoint saved by grpo-lab)`)
  if (!isObject(v)) fail('metadata', `is ${shown(v)}; allowed: an object of strings`)
  const meta = v as Record<string, unknown>
  const notText = Object.keys(meta).find((k) => typeof meta[k] !== 'string')
  if (notText !== undefined) fail(`metadata ${shown(notText)}`, `is ${shown(meta[notText])}; allowed: a string (safetensors metadata is text)`)
  if (meta.format !== CHECKPOINT_FORMAT) fail('metadata format', `is ${shown(meta.format)}; allowed: "${CHECKPOINT_FORMAT}"`)
  const json = (key: 'config' | 'tokenizer'): unknown => {
    const parsed = typeof meta[key] === 'string' ? parseUntrustedJson(meta[key], { maxChars: 64 * 1024, maxDepth: 4, maxMembers: 64 }) : { error: 'is missing' }
    return 'error' in parsed ? fail(`metadata ${key}`, parsed.error) : parsed.value
  }
  let config: GPTConfig
  let tokenizer: CharTokenizer
  try {
    const c = json('config')
    if (!isObject(c)) fail('metadata config', `is ${shown(c)}; allowed: an object of vocabSize, blockSize, nLayer, nHead, nEmbd`)
    config = validateConfig(c as unknown as GPTConfig)
  } catch (e) {
    if (e instanceof CheckpointError) throw e
    return fail('metadata config', (e as Error).message)
  }
  try {
    tokenizer = CharTokenizer.fromJSON(json('tokenizer'))
  } catch (e) {
    if (e instanceof CheckpointError) throw e
    return fail('metadata tokenizer', (e as Error).message)
  }
  if (tokenizer.vocabSize !== config.vocabSize) {
    fail('metadata tokenizer', `has ${tokenizer.vocabSize} ids but config.vocabSize is ${config.vocabSize}; allowed: the same number`)
  }
  const metadata = Object.fromEntries(Object.entries(meta as Record<string, string>).filter(([k]) => !['format', 'config', 'tokenizer'].includes(k)))
  return { config, tokenizer, metadata }
}

/** Any float32 safetensors file, checked whole (header against the file, every value finite):
 *  its __metadata__ (unchecked) and tensors by name, in the header's order. */
/** The header checked against the file: its tensors' places, covering the data section exactly. */
function readEntries(bytes: Uint8Array) {
  const { header, dataStart } = readHeader(bytes)
  const dataLen = bytes.length - dataStart
  const entries = Object.keys(header).filter((k) => k !== '__metadata__').map((k) => tensorEntry(k, header[k], dataLen))
  checkCoverage(entries, dataLen)
  return { header, dataStart, entries }
}

/** One tensor's values, refused unless every one is finite. */
function tensorData(bytes: Uint8Array, dataStart: number, t: TensorEntry): Float32Array {
  const data = new Float32Array(bytes.slice(dataStart + t.begin, dataStart + t.end).buffer)
  const bad = data.findIndex((x) => !Number.isFinite(x))
  if (bad >= 0) fail(tensorAt(t.name), `holds ${data[bad]} at index ${bad}; allowed: finite numbers`)
  return data
}

export function readSafetensors(bytes: Uint8Array): { metadata: unknown; tensors: Map<string, NamedTensor> } {
  const { header, dataStart, entries } = readEntries(bytes)
  const tensors = new Map<string, NamedTensor>()
  for (const t of entries) tensors.set(t.name, { name: t.name, shape: t.shape, data: tensorData(bytes, dataStart, t) })
  return { metadata: header.__metadata__, tensors }
}

/** Read a checkpoint, all or nothing: the whole header is checked against the file and against the
 *  model config before any tensor is returned, and every value is checked finite. */
export function loadSafetensors(bytes: Uint8Array): Checkpoint {
  const { header, dataStart, entries } = readEntries(bytes)
  const { config, tokenizer, metadata } = readMetadata(header.__metadata__)
  const specs = paramLayout(config, 1).specs
  const byName = new Map(entries.map((t) => [t.name, t]))
  for (const s of specs) {
    const t = byName.get(s.name)
    if (!t) fail(tensorAt(s.name), `is missing; a model of config ${JSON.stringify(config)} needs it`)
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      fail(`${tensorAt(s.name)} shape`, `${shown(t.shape)}; the config needs ${JSON.stringify(s.shape)}`)
    }
  }
  if (entries.length !== specs.length) {
    const extra = entries.find((t) => !specs.some((s) => s.name === t.name))!
    fail(tensorAt(extra.name), 'is not a parameter of this model; allowed: the tensors of paramLayout (wte, wpe, h.N.…, ln_f, lm_head)')
  }
  const tensors = new Map<string, Float32Array>(specs.map((s) => [s.name, tensorData(bytes, dataStart, byName.get(s.name)!)]))
  return { config, tokenizer, tensors, metadata }
}

/** Save a live model: one readback of the flat parameters. */
export async function checkpointOf(model: import('./gpt').GPT, tokenizer: CharTokenizer,
  metadata: Record<string, string> = {}): Promise<Checkpoint> {
  const flat = await model.readFlat()
  return { config: model.config, tokenizer, tensors: tensorsFromFlat(model.config, model.backend.alignment, flat), metadata }
}

/** Load a checkpoint's weights into a model of the same config. */
export function loadInto(model: import('./gpt').GPT, ck: Checkpoint): void {
  if (JSON.stringify(model.config) !== JSON.stringify(ck.config)) {
    throw new CheckpointError(`checkpoint: config ${JSON.stringify(ck.config)} does not match the model's ${JSON.stringify(model.config)}`)
  }
  model.loadFlat(flatFromTensors(ck.config, model.backend.alignment, ck.tensors))
}
