// Checkpoints as safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length, a JSON header naming each tensor's dtype, shape and byte range, then the data.
// The model config and the tokenizer travel in the header's __metadata__ (strings only).

import { type GPTConfig, validateConfig } from './config'
import { paramLayout } from './params'
import { CharTokenizer } from './tokenizer'

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
  const layout = paramLayout(ck.config, 1)
  const header: Record<string, unknown> = {
    __metadata__: {
      ...ck.metadata,
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(ck.config),
      tokenizer: JSON.stringify(ck.tokenizer.toJSON()),
    },
  }
  let offset = 0
  for (const s of layout.specs) {
    const t = ck.tensors.get(s.name)
    if (!t || t.length !== s.length) throw new CheckpointError(`checkpoint: tensor '${s.name}' is missing or has the wrong size`)
    header[s.name] = { dtype: 'F32', shape: s.shape, data_offsets: [offset, offset + s.length * 4] }
    offset += s.length * 4
  }
  let json = JSON.stringify(header)
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' '
  const headerBytes = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + headerBytes.length + offset)
  const dv = new DataView(out.buffer)
  dv.setBigUint64(0, BigInt(headerBytes.length), true)
  out.set(headerBytes, 8)
  let at = 8 + headerBytes.length
  for (const s of layout.specs) {
    const t = ck.tensors.get(s.name)!
    const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength)
    // safetensors is little-endian; so is every platform WebGPU runs on
    out.set(bytes, at)
    at += bytes.length
  }
  return out
}

export function loadSafetensors(bytes: Uint8Array): Checkpoint {
  if (bytes.length < 8) throw new CheckpointError(`checkpoint: file of ${bytes.length} bytes is too short to be safetensors`)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const headerLen = Number(dv.getBigUint64(0, true))
  if (headerLen <= 0 || 8 + headerLen > bytes.length) {
    throw new CheckpointError(`checkpoint: header length ${headerLen} does not fit in a file of ${bytes.length} bytes (not safetensors, or truncated)`)
  }
  let header: Record<string, unknown>
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)))
  } catch (e) {
    throw new CheckpointError(`checkpoint: the header is not valid JSON (${(e as Error).message})`)
  }
  const meta = (header.__metadata__ ?? {}) as Record<string, string>
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`checkpoint: metadata format is ${JSON.stringify(meta.format)}, expected "${CHECKPOINT_FORMAT}"`)
  }
  let config: GPTConfig
  let tokenizer: CharTokenizer
  try {
    config = validateConfig(JSON.parse(meta.config))
    tokenizer = CharTokenizer.fromJSON(JSON.parse(meta.tokenizer))
  } catch (e) {
    throw new CheckpointError(`checkpoint: bad config or tokenizer in metadata (${(e as Error).message})`)
  }
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new CheckpointError(`checkpoint: tokenizer has ${tokenizer.vocabSize} ids but config.vocabSize is ${config.vocabSize}`)
  }
  const dataStart = 8 + headerLen
  const dataLen = bytes.length - dataStart
  const tensors = new Map<string, Float32Array>()
  for (const s of paramLayout(config, 1).specs) {
    const entry = header[s.name] as { dtype?: string; shape?: number[]; data_offsets?: [number, number] } | undefined
    if (!entry) throw new CheckpointError(`checkpoint: tensor '${s.name}' is missing`)
    if (entry.dtype !== 'F32') throw new CheckpointError(`checkpoint: tensor '${s.name}' has dtype ${entry.dtype}, only F32 is supported`)
    if (JSON.stringify(entry.shape) !== JSON.stringify(s.shape)) {
      throw new CheckpointError(`checkpoint: tensor '${s.name}' has shape ${JSON.stringify(entry.shape)}, the config needs ${JSON.stringify(s.shape)}`)
    }
    const [a, b] = entry.data_offsets ?? [-1, -1]
    if (!(a >= 0 && b - a === s.length * 4 && b <= dataLen)) {
      throw new CheckpointError(`checkpoint: tensor '${s.name}' has byte range ${JSON.stringify(entry.data_offsets)} outside the ${dataLen} data bytes`)
    }
    const copy = bytes.slice(dataStart + a, dataStart + b)
    const t = new Float32Array(copy.buffer)
    for (let i = 0; i < t.length; i++) {
      if (!Number.isFinite(t[i])) throw new CheckpointError(`checkpoint: tensor '${s.name}' holds a non-finite value at ${i}`)
    }
    tensors.set(s.name, t)
  }
  const metadata: Record<string, string> = {}
  for (const [k, v] of Object.entries(meta)) if (!['format', 'config', 'tokenizer'].includes(k)) metadata[k] = v
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
