// Hugging Face GPT-2 folders ↔ the lab's checkpoints. The lab's GPT is GPT-2's architecture, so a
// `gpt2` folder (config.json, model.safetensors, tokenizer.json) with a character tokenizer of the
// form src/export/hf.ts writes — e.g. one trained further in Python — is a checkpoint; anything else
// (another architecture, a tied head, a byte-level tokenizer…) is refused saying what was found
// and what the lab takes. Tensor names: the lab's `h.N.…` are Hugging Face's `transformer.h.N.…`;
// GPT-2's Conv1D stores its weights [in, out], the lab [out, in] (nn.Linear's order).

import { unzipSync } from 'fflate'
import { type Checkpoint, CheckpointError, loadSafetensors, type NamedTensor, readSafetensors } from './checkpoint'
import { type GPTConfig, validateConfig } from './config'
import { paramLayout } from './params'
import { CharTokenizer, EOS_ID, EOS_TEXT } from './tokenizer'
import { parseUntrustedJson } from './untrustedJson'

/** The end token's text in the exported tokenizer. */
export const HF_EOS_TEXT = EOS_TEXT

/** The config.json fields the lab writes and reads. */
export interface HfGpt2Config {
  model_type: string
  architectures: string[]
  vocab_size: number
  n_positions: number
  n_embd: number
  n_layer: number
  n_head: number
  activation_function: string
  layer_norm_epsilon: number
  tie_word_embeddings: boolean
  eos_token_id: number
}

/** The lab's matrices stored transposed by GPT-2's Conv1D. */
const CONV1D = /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/
/** The lab's tensor name → Hugging Face's. */
export function hfName(name: string): string {
  return name === 'lm_head.weight' ? name : `transformer.${name === 'wte' || name === 'wpe' ? `${name}.weight` : name}`
}
/** Causal-mask buffers older GPT-2 checkpoints carry: constants, not parameters. */
const MASK_BUFFER = /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]
  return t
}

/** A checkpoint's tensors under Hugging Face's names and shapes (GPT2LMHeadModel). */
export function hfTensorsOf(ck: Checkpoint): NamedTensor[] {
  return paramLayout(ck.config, 1).specs.map((s) => {
    const data = ck.tensors.get(s.name)
    if (!data || data.length !== s.length) throw new CheckpointError(`hf export: tensor '${s.name}' is missing or has the wrong size`)
    if (!CONV1D.test(s.name)) return { name: hfName(s.name), shape: s.shape, data }
    const [out, inp] = s.shape
    return { name: hfName(s.name), shape: [inp, out], data: transpose(data, out, inp) }
  })
}

export class HfFolderError extends CheckpointError {}

const SUPPORTED = 'a GPT-2 folder as `grpo-lab export --format hf` writes it (model_type gpt2, GPT2LMHeadModel, gelu_new, ' +
  'layer_norm_epsilon 1e-5, an untied lm_head.weight, a character tokenizer.json: BPE without merges, no pre-tokenizer or normalizer)'
function refuse(what: string): never { throw new HfFolderError(`hf folder: ${what}; the lab supports ${SUPPORTED}`) }
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const shown = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 80)

function parseJsonFile(bytes: Uint8Array | undefined, name: string, limits: { maxDepth: number; maxMembers: number }): Record<string, unknown> {
  if (!bytes) return refuse(`${name} is missing`)
  let text: string
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes) } catch { return refuse(`${name} is not UTF-8 text`) }
  const parsed = parseUntrustedJson(text, { maxChars: 8 * 1024 * 1024, ...limits })
  if ('error' in parsed) return refuse(`${name}: ${parsed.error}`)
  if (!isObject(parsed.value)) return refuse(`${name} is ${shown(parsed.value)}, not a JSON object`)
  return parsed.value
}

function configOf(j: Record<string, unknown>): GPTConfig {
  if (j.model_type !== 'gpt2') refuse(`config.json says model_type ${shown(j.model_type)}`)
  const arch = j.architectures
  if (arch !== undefined && !(Array.isArray(arch) && arch.length === 1 && arch[0] === 'GPT2LMHeadModel')) refuse(`config.json says architectures ${shown(arch)}`)
  if ((j.activation_function ?? 'gelu_new') !== 'gelu_new') refuse(`config.json says activation_function ${shown(j.activation_function)}`)
  if (j.layer_norm_epsilon !== undefined && j.layer_norm_epsilon !== 1e-5) refuse(`config.json says layer_norm_epsilon ${shown(j.layer_norm_epsilon)}`)
  // transformers' GPT2Config ties the head unless told otherwise
  if (j.tie_word_embeddings !== false) refuse(`config.json says tie_word_embeddings ${shown(j.tie_word_embeddings ?? true)} (a head tied to wte)`)
  for (const [k, want] of [['scale_attn_weights', true], ['scale_attn_by_inverse_layer_idx', false]] as const) {
    if (j[k] !== undefined && j[k] !== want) refuse(`config.json says ${k} ${shown(j[k])}`)
  }
  if (j.n_inner !== undefined && j.n_inner !== null && j.n_inner !== 4 * (j.n_embd as number)) refuse(`config.json says n_inner ${shown(j.n_inner)}, not 4 × n_embd`)
  if (j.eos_token_id !== undefined && j.eos_token_id !== EOS_ID) refuse(`config.json says eos_token_id ${shown(j.eos_token_id)}; the lab's end token is id ${EOS_ID}`)
  const config = { vocabSize: j.vocab_size, blockSize: j.n_positions, nLayer: j.n_layer, nHead: j.n_head, nEmbd: j.n_embd } as GPTConfig
  try { return validateConfig(config) } catch (e) { return refuse(`config.json: ${(e as Error).message} (vocab_size, n_positions, n_layer, n_head, n_embd)`) }
}

/** A TemplateProcessing that puts no token around a single sequence: what transformers'
 *  save_pretrained writes for the lab's tokenizer (it adds neither BOS nor EOS). */
function addsNothing(pp: unknown): boolean {
  if (!isObject(pp) || pp.type !== 'TemplateProcessing') return false
  const single = pp.single
  const only = Array.isArray(single) && single.length === 1 && isObject(single[0]) ? single[0].Sequence : undefined
  return isObject(only) && only.id === 'A' && isObject(pp.special_tokens) && Object.keys(pp.special_tokens).length === 0
}

/** tokenizer.json → the lab's character tokenizer: id 0 the end token, ids 1.. one character each. */
function tokenizerOf(j: Record<string, unknown>, vocabSize: number): CharTokenizer {
  const model = j.model
  if (!isObject(model)) return refuse('tokenizer.json has no "model"')
  if (model.type !== 'BPE') refuse(`tokenizer.json has a ${shown(model.type)} model`)
  if (!Array.isArray(model.merges) || model.merges.length > 0) refuse(`tokenizer.json has ${Array.isArray(model.merges) ? model.merges.length : 'no list of'} merges`)
  for (const key of ['pre_tokenizer', 'normalizer', 'post_processor'] as const) {
    if (key === 'post_processor' && addsNothing(j[key])) continue
    if (j[key] !== null && j[key] !== undefined) {
      const type = isObject(j[key]) ? (j[key] as Record<string, unknown>).type : j[key]
      refuse(`tokenizer.json has a ${key} ${shown(type)}${type === 'ByteLevel' ? ' (a byte-level tokenizer)' : ''}`)
    }
  }
  const decoder = j.decoder
  if (decoder !== null && decoder !== undefined && !(isObject(decoder) && decoder.type === 'Fuse')) refuse(`tokenizer.json has a decoder ${shown(isObject(decoder) ? decoder.type : decoder)}`)
  if (model.byte_fallback === true) refuse('tokenizer.json has byte_fallback on')
  const vocab = model.vocab
  if (!isObject(vocab)) return refuse('tokenizer.json has no vocabulary')
  const byId = new Map<number, string>()
  for (const [text, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize || byId.has(id)) {
      refuse(`tokenizer.json maps ${shown(text)} to ${shown(id)}; ids must be distinct, 0 to vocab_size − 1 = ${vocabSize - 1}`)
    }
    byId.set(id as number, text)
  }
  if (byId.size !== vocabSize) refuse(`tokenizer.json has ${byId.size} tokens but config.json has vocab_size ${vocabSize}`)
  const eos = byId.get(EOS_ID)
  const added = Array.isArray(j.added_tokens) ? j.added_tokens : []
  const special = added.filter((t) => isObject(t) && t.special === true)
  if (special.length !== 1 || (special[0] as Record<string, unknown>).id !== EOS_ID || (special[0] as Record<string, unknown>).content !== eos) {
    refuse(`tokenizer.json has special tokens ${shown(special.map((t) => (t as Record<string, unknown>).content))}; the lab has one, the end token at id ${EOS_ID}`)
  }
  let chars = ''
  for (let id = 1; id < vocabSize; id++) {
    const text = byId.get(id)!
    if (Array.from(text).length !== 1) refuse(`tokenizer.json token ${id} is ${shown(text)}, not one character`)
    chars += text
  }
  try { return new CharTokenizer(chars) } catch (e) { return refuse(`tokenizer.json: ${(e as Error).message}`) }
}

/** Hugging Face's tensors → the lab's, each checked against the config's shapes. */
function tensorsOf(all: Map<string, NamedTensor>, config: GPTConfig): Map<string, Float32Array> {
  const specs = paramLayout(config, 1).specs
  const wanted = new Set(specs.map((s) => hfName(s.name)))
  for (const name of all.keys()) {
    if (!wanted.has(name) && !MASK_BUFFER.test(name)) refuse(`model.safetensors has a tensor ${shown(name)} that GPT2LMHeadModel of this config does not have`)
  }
  const out = new Map<string, Float32Array>()
  for (const s of specs) {
    const name = hfName(s.name)
    const t = all.get(name)
    if (!t) {
      if (s.name === 'lm_head.weight') refuse('model.safetensors has no lm_head.weight (a head tied to wte)')
      refuse(`model.safetensors has no ${name}`)
    }
    const shape = CONV1D.test(s.name) ? [s.shape[1], s.shape[0]] : s.shape
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      refuse(`model.safetensors ${name} has shape ${shown(t.shape)}; config.json needs ${shown(shape)}`)
    }
    out.set(s.name, CONV1D.test(s.name) ? transpose(t.data, shape[0], shape[1]) : t.data)
  }
  return out
}

/** A GPT-2 folder's files (by path inside the folder) as a checkpoint. */
export function checkpointFromHfFiles(files: Map<string, Uint8Array>): Checkpoint {
  const configJson = parseJsonFile(files.get('config.json'), 'config.json', { maxDepth: 8, maxMembers: 512 })
  const config = configOf(configJson)
  const tokenizer = tokenizerOf(parseJsonFile(files.get('tokenizer.json'), 'tokenizer.json', { maxDepth: 8, maxMembers: 8192 }), config.vocabSize)
  const weights = files.get('model.safetensors')
  if (!weights) refuse(`model.safetensors is missing (found ${[...files.keys()].join(', ') || 'no files'})`)
  const tensors = tensorsOf(readSafetensors(weights).tensors, config)
  // the lab's own metadata (task, step, seed), kept by export under "grpo_lab"
  const lab = configJson.grpo_lab
  const metadata = isObject(lab) ? Object.fromEntries(Object.entries(lab).filter(([, v]) => typeof v === 'string')) as Record<string, string> : {}
  return { config, tokenizer, tensors, metadata }
}

/** The files of a folder the lab reads; anything else in it is ignored. */
export const HF_FOLDER_FILES: readonly string[] = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors']
/** The largest file a .zip may unpack to (a model's weights; the lab's models are far smaller). */
export const MAX_UNZIPPED_BYTES = 64 * 2 ** 20

/** The files of a .zip of a folder: the folder's own files (a single top folder is stripped). */
export function filesFromZip(bytes: Uint8Array): Map<string, Uint8Array> {
  let entries: Record<string, Uint8Array>
  // a .zip can promise gigabytes in a few kB: unpack only the files the lab reads, none larger than
  // MAX_UNZIPPED_BYTES (fflate sizes each output from the entry's declared size, checked here first)
  const tooBig: string[] = []
  const wanted = (f: { name: string; originalSize: number }) => {
    if (!HF_FOLDER_FILES.includes(f.name.split('/').at(-1) ?? '')) return false
    if (f.originalSize > MAX_UNZIPPED_BYTES) { tooBig.push(f.name); return false }
    return true
  }
  try { entries = unzipSync(bytes, { filter: wanted }) } catch (e) { return refuse(`the .zip cannot be read (${(e as Error).message})`) }
  if (tooBig.length) refuse(`${tooBig[0]} in the .zip unpacks to more than ${MAX_UNZIPPED_BYTES / 2 ** 20} MiB; allowed: at most that`)
  const paths = Object.keys(entries).filter((p) => !p.endsWith('/'))
  const tops = new Set(paths.map((p) => p.split('/')[0]))
  const strip = tops.size === 1 && paths.every((p) => p.includes('/')) ? [...tops][0].length + 1 : 0
  return new Map(paths.map((p) => [p.slice(strip), entries[p]]))
}

/** True for the first bytes of a .zip file (a local file header). */
export const isZip = (bytes: Uint8Array) => bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4

/** One file the lab can load: its own .safetensors checkpoint, or a .zip of a Hugging Face folder. */
export function checkpointFromBytes(bytes: Uint8Array): Checkpoint {
  return isZip(bytes) ? checkpointFromHfFiles(filesFromZip(bytes)) : loadSafetensors(bytes)
}
