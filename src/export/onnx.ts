// The policy model as ONNX (https://onnx.ai/onnx/repo-docs/IR.html): a ModelProto of IR version 8,
// default-domain opset 17, weights as float32 initializers, the config and tokenizer in
// metadata_props so the file describes itself. Written with src/export/protobuf.ts; checked
// against onnxruntime-web (WASM) in test/unit/onnx.test.ts.
//
// Graph contract (other code relies on these names):
//   kvCache false: input_ids int64 [batch_size, sequence_length] → logits float32 [batch_size, sequence_length, vocab];
//                  positions 0..seq-1.
//   kvCache true:  the layout transformers.js and Optimum use for decoders with a cache (so a Hugging Face
//                  runtime can run it as is): input_ids, attention_mask int64 [batch_size, past + seq],
//                  position_ids int64 [batch_size, seq], past_key_values.{l}.key|value float32
//                  [batch_size, nHead, past_sequence_length, headDim] for every layer l → logits,
//                  present.{l}.key|value [batch_size, nHead, past + seq, headDim]. The wpe rows are
//                  position_ids'; query t attends to cache entries 0..past+t whose attention_mask is 1
//                  (past is read from past_key_values.0.key's shape; 0 = a prefill with empty pasts).
//
// The math is the engine's (src/model/gpt.ts, shaders/): pre-LayerNorm (eps 1e-5) blocks,
// x·Wᵀ + b linear layers (Wᵀ is stored in the file, so every layer is one MatMul),
// causal softmax attention scaled by 1/√headDim, GELU in its tanh form, untied LM head.
// Ops used: Shape, Gather, Add, Range, Unsqueeze, Greater, Equal, Or, LayerNormalization, MatMul, Split,
// Reshape, Transpose, Concat, Mul, Where, Softmax, Tanh — all in onnxruntime-web's WASM and
// WebGPU execution providers (the int64 shape arithmetic runs on the CPU there).

import { LAYERNORM_EPS } from '../engine/cpu/cpuBackend'
import { type Checkpoint, CHECKPOINT_FORMAT, loadSafetensors, tensorsFromFlat } from '../model/checkpoint'
import { type GPTConfig, validateConfig } from '../model/config'
import type { GPT } from '../model/gpt'
import { layerNames, paramLayout } from '../model/params'
import { type CharTokenizer, EOS_ID } from '../model/tokenizer'
import { ProtoWriter } from './protobuf'

export const ONNX_IR_VERSION = 8
export const ONNX_OPSET = 17

/** The cache tensors' names in the KV-cache layout (Optimum's). */
export const pastName = (l: number, kind: 'key' | 'value') => `past_key_values.${l}.${kind}`
export const presentName = (l: number, kind: 'key' | 'value') => `present.${l}.${kind}`

export interface OnnxExportOptions {
  /** with attention_mask, position_ids and past_key_values.* inputs, present.* outputs (see the contract above) */
  kvCache: boolean
  /** stored in metadata_props as 'tokenizer' (the safetensors checkpoint's JSON) */
  tokenizer?: CharTokenizer
  /** extra metadata_props (string values), e.g. task and step */
  metadata?: Record<string, string>
}

/** Parameters by name, unpadded, in the shapes of paramLayout(config, 1). */
export type WeightSource = Map<string, Float32Array> | ((name: string) => Float32Array)

export class OnnxExportError extends Error {}

// TensorProto.DataType
const FLOAT = 1
const INT64 = 7

type Attr =
  | { name: string; int: number }
  | { name: string; ints: number[] }
  | { name: string; float: number }

interface NodeSpec { op: string; inputs: string[]; outputs: string[]; attrs: Attr[]; name: string }
interface InitSpec { name: string; dims: number[]; dataType: number; raw: Uint8Array }
interface ValueInfo { name: string; elemType: number; dims: (number | string)[] }

/** A graph under construction: nodes in topological order, initializers, constants shared by value. */
class GraphBuilder {
  readonly nodes: NodeSpec[] = []
  readonly inits: InitSpec[] = []
  private readonly consts = new Map<string, string>()

  /** One node; its outputs are named `out` (one output) or `out:i`. Returns the output names. */
  node(op: string, inputs: string[], out: string | string[], attrs: Attr[] = []): string[] {
    const outputs = Array.isArray(out) ? out : [out]
    this.nodes.push({ op, inputs, outputs, attrs, name: `${outputs[0]}/${op}` })
    return outputs
  }

  op(op: string, inputs: string[], out: string, attrs: Attr[] = []): string {
    return this.node(op, inputs, out, attrs)[0]
  }

  init(name: string, dims: number[], dataType: number, raw: Uint8Array): string {
    this.inits.push({ name, dims, dataType, raw })
    return name
  }

  float(name: string, dims: number[], data: Float32Array): string {
    return this.init(name, dims, FLOAT, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }

  /** An int64 constant (a scalar when `scalar`), shared by every node that needs the same values. */
  i64(values: number[], scalar = false): string {
    const key = `i64${scalar ? 's' : ''}:${values.join(',')}`
    let name = this.consts.get(key)
    if (!name) {
      name = `const.i64.${scalar ? '' : '['}${values.join('_')}${scalar ? '' : ']'}`
      const data = BigInt64Array.from(values, (v) => BigInt(v))
      this.init(name, scalar ? [] : [values.length], INT64, new Uint8Array(data.buffer))
      this.consts.set(key, name)
    }
    return name
  }

  /** A float32 scalar constant. */
  f32(value: number): string {
    const key = `f32:${value}`
    let name = this.consts.get(key)
    if (!name) {
      name = `const.f32.${value}`
      this.float(name, [], Float32Array.of(value))
      this.consts.set(key, name)
    }
    return name
  }
}

/** W [rows, cols] → Wᵀ [cols, rows]. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]
  return t
}

/**
 * The model as an ONNX ModelProto (bytes of a .onnx file). `weights` gives every parameter of
 * paramLayout(config, 1) by name (a checkpoint's tensors, or a function reading them).
 */
export function exportOnnx(config: GPTConfig, weights: WeightSource, options: OnnxExportOptions): Uint8Array {
  const cfg = validateConfig({ ...config })
  const { nLayer: L, nHead: NH, nEmbd: C, vocabSize: V } = cfg
  const hs = C / NH
  const get = typeof weights === 'function' ? weights : (name: string) => {
    const t = weights.get(name)
    if (!t) throw new OnnxExportError(`onnx export: weight '${name}' is missing`)
    return t
  }
  const specs = paramLayout(cfg, 1).byName
  const w = (name: string): Float32Array => {
    const t = get(name)
    const n = specs.get(name)!.length
    if (!t || t.length !== n) throw new OnnxExportError(`onnx export: weight '${name}' has ${t ? t.length : 'no'} values, the config needs ${n}`)
    return t
  }
  const g = new GraphBuilder()
  const kv = options.kvCache
  const param = (name: string) => g.float(name, specs.get(name)!.shape, w(name))
  /** a linear layer's weight [out, in], stored transposed for x·Wᵀ as one MatMul */
  const paramT = (name: string) => {
    const [out, inp] = specs.get(name)!.shape
    return g.float(`${name}.T`, [inp, out], transpose(w(name), out, inp))
  }
  const linear = (x: string, weight: string, bias: string | null, out: string) => {
    const y = g.op('MatMul', [x, paramT(weight)], bias ? `${out}.matmul` : out)
    return bias ? g.op('Add', [y, param(bias)], out) : y
  }
  const layerNorm = (x: string, weight: string, bias: string, out: string) =>
    g.op('LayerNormalization', [x, param(weight), param(bias)], out, [{ name: 'axis', int: -1 }, { name: 'epsilon', float: LAYERNORM_EPS }])

  // ---- sizes and positions --------------------------------------------------------------------
  const seq = g.op('Gather', [g.op('Shape', ['input_ids'], 'input_ids.shape'), g.i64([1], true)], 'seq', [{ name: 'axis', int: 0 }])
  const zero = g.i64([0], true)
  const one = g.i64([1], true)
  let past = zero
  let total = seq
  if (kv) {
    past = g.op('Gather', [g.op('Shape', [pastName(0, 'key')], 'past.shape'), g.i64([2], true)], 'past_seq', [{ name: 'axis', int: 0 }])
    total = g.op('Add', [past, seq], 'total_seq')
  }
  // cache indices of the queries (past..past+seq-1) and of the keys (0..total-1)
  const queryIndex = g.op('Range', [past, total, one], 'query_index')
  const keyIndex = kv ? g.op('Range', [zero, total, one], 'key_index') : queryIndex
  // masked[t, s] = key s comes after query t; with a cache, also keys whose attention_mask is 0
  let masked = g.op('Greater', [
    g.op('Unsqueeze', [keyIndex, g.i64([0])], 'key_index.row'),
    g.op('Unsqueeze', [queryIndex, g.i64([1])], 'query_index.column'),
  ], 'future')
  if (kv) {
    const padding = g.op('Unsqueeze', [g.op('Equal', ['attention_mask', g.i64([0], true)], 'padding'), g.i64([1, 2])], 'padding.b11s')
    masked = g.op('Or', [masked, padding], 'attention_masked')
  }

  // ---- embedding ---------------------------------------------------------------------------------
  let x = g.op('Add', [
    g.op('Gather', [param('wte'), 'input_ids'], 'tok_emb', [{ name: 'axis', int: 0 }]),
    g.op('Gather', [param('wpe'), kv ? 'position_ids' : queryIndex], 'pos_emb', [{ name: 'axis', int: 0 }]),
  ], 'encoded')

  // ---- blocks ------------------------------------------------------------------------------------
  const headShape = g.i64([0, 0, NH, hs])
  const heads = (t: string, out: string) =>
    g.op('Transpose', [g.op('Reshape', [t, headShape], `${out}.split_heads`)], out, [{ name: 'perm', ints: [0, 2, 1, 3] }])
  for (let l = 0; l < L; l++) {
    const n = layerNames(l)
    const p = `h.${l}`
    const ln1 = layerNorm(x, n.ln1w, n.ln1b, `${p}.ln_1`)
    const qkv = linear(ln1, n.qkvw, n.qkvb, `${p}.attn.qkv`)
    const [q, k, v] = g.node('Split', [qkv, g.i64([C, C, C])], [`${p}.attn.q`, `${p}.attn.k`, `${p}.attn.v`], [{ name: 'axis', int: 2 }])
    const qh = heads(q, `${p}.attn.q_heads`)
    let kh = heads(k, kv ? `${p}.attn.k_heads` : `${p}.attn.keys`)
    let vh = heads(v, kv ? `${p}.attn.v_heads` : `${p}.attn.values`)
    if (kv) {
      kh = g.op('Concat', [pastName(l, 'key'), kh], presentName(l, 'key'), [{ name: 'axis', int: 2 }])
      vh = g.op('Concat', [pastName(l, 'value'), vh], presentName(l, 'value'), [{ name: 'axis', int: 2 }])
    }
    const kT = g.op('Transpose', [kh], `${p}.attn.keys_t`, [{ name: 'perm', ints: [0, 1, 3, 2] }])
    const scores = g.op('Mul', [g.op('MatMul', [qh, kT], `${p}.attn.qk`), g.f32(1 / Math.sqrt(hs))], `${p}.attn.scores`)
    const maskedScores = g.op('Where', [masked, g.f32(-1e9), scores], `${p}.attn.masked`)
    const att = g.op('Softmax', [maskedScores], `${p}.attn.probs`, [{ name: 'axis', int: -1 }])
    const yh = g.op('MatMul', [att, vh], `${p}.attn.y_heads`)
    const y = g.op('Reshape', [
      g.op('Transpose', [yh], `${p}.attn.y_merge`, [{ name: 'perm', ints: [0, 2, 1, 3] }]),
      g.i64([0, 0, C]),
    ], `${p}.attn.y`)
    const x2 = g.op('Add', [x, linear(y, n.projw, n.projb, `${p}.attn.c_proj`)], `${p}.residual2`)
    const ln2 = layerNorm(x2, n.ln2w, n.ln2b, `${p}.ln_2`)
    const h = linear(ln2, n.fcw, n.fcb, `${p}.mlp.c_fc`)
    // GELU, tanh form: 0.5·h·(1 + tanh(√(2/π)·(h + 0.044715·h³)))
    const h3 = g.op('Mul', [h, g.op('Mul', [h, h], `${p}.mlp.h2`)], `${p}.mlp.h3`)
    const inner = g.op('Mul', [g.op('Add', [h, g.op('Mul', [h3, g.f32(0.044715)], `${p}.mlp.h3s`)], `${p}.mlp.cubic`),
      g.f32(Math.sqrt(2 / Math.PI))], `${p}.mlp.inner`)
    const gate = g.op('Add', [g.op('Tanh', [inner], `${p}.mlp.tanh`), g.f32(1)], `${p}.mlp.gate`)
    const gelu = g.op('Mul', [g.op('Mul', [h, gate], `${p}.mlp.h_gate`), g.f32(0.5)], `${p}.mlp.gelu`)
    x = g.op('Add', [x2, linear(gelu, n.fcprojw, n.fcprojb, `${p}.mlp.c_proj`)], `${p}.residual3`)
  }
  const lnf = layerNorm(x, 'ln_f.weight', 'ln_f.bias', 'ln_f')
  linear(lnf, 'lm_head.weight', null, 'logits')

  // ---- interface ---------------------------------------------------------------------------------
  const inputs: ValueInfo[] = [{ name: 'input_ids', elemType: INT64, dims: ['batch_size', 'sequence_length'] }]
  const outputs: ValueInfo[] = [{ name: 'logits', elemType: FLOAT, dims: ['batch_size', 'sequence_length', V] }]
  if (kv) {
    inputs.push({ name: 'attention_mask', elemType: INT64, dims: ['batch_size', 'past_sequence_length + sequence_length'] },
      { name: 'position_ids', elemType: INT64, dims: ['batch_size', 'sequence_length'] })
    for (let l = 0; l < L; l++) {
      for (const kind of ['key', 'value'] as const) {
        inputs.push({ name: pastName(l, kind), elemType: FLOAT, dims: ['batch_size', NH, 'past_sequence_length', hs] })
        outputs.push({ name: presentName(l, kind), elemType: FLOAT, dims: ['batch_size', NH, 'past_sequence_length + sequence_length', hs] })
      }
    }
  }
  const metadata: Record<string, string> = {
    ...options.metadata,
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(cfg),
    kv_cache: String(kv),
    eos_token_id: String(EOS_ID),
  }
  if (options.tokenizer) {
    if (options.tokenizer.vocabSize !== V) {
      throw new OnnxExportError(`onnx export: the tokenizer has ${options.tokenizer.vocabSize} ids but config.vocabSize is ${V}`)
    }
    metadata.tokenizer = JSON.stringify(options.tokenizer.toJSON())
  }
  const doc = kv
    ? 'grpo-lab GPT with a KV cache, in the Optimum / transformers.js layout: input_ids, attention_mask, position_ids and ' +
      'past_key_values.{l}.key|value [batch_size, nHead, past_sequence_length, headDim] → logits and present.{l}.key|value.'
    : 'grpo-lab GPT: input_ids [batch, seq] → logits [batch, seq, vocab] for positions 0..seq-1.'
  return writeModel(g, inputs, outputs, metadata, doc)
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name)
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.varint(1, v.elemType)
    tensor.message(2, (shape) => {
      for (const d of v.dims) {
        shape.message(1, (dim) => { if (typeof d === 'number') dim.varint(1, d); else dim.string(2, d) })
      }
    })
  }))
}

function writeModel(g: GraphBuilder, inputs: ValueInfo[], outputs: ValueInfo[], metadata: Record<string, string>, doc: string): Uint8Array {
  const m = new ProtoWriter()
  m.varint(1, ONNX_IR_VERSION) // ModelProto.ir_version
  m.string(2, 'grpo-lab') // producer_name
  m.string(3, '0.1.0') // producer_version
  m.varint(5, 1) // model_version
  m.string(6, doc) // doc_string
  m.message(8, (o) => { o.string(1, ''); o.varint(2, ONNX_OPSET) }) // opset_import: the default domain
  for (const [key, value] of Object.entries(metadata)) m.message(14, (e) => { e.string(1, key); e.string(2, value) })
  m.message(7, (graph) => { // GraphProto
    for (const n of g.nodes) {
      graph.message(1, (node) => { // NodeProto
        for (const i of n.inputs) node.string(1, i)
        for (const o of n.outputs) node.string(2, o)
        node.string(3, n.name)
        node.string(4, n.op)
        for (const a of n.attrs) {
          node.message(5, (attr) => { // AttributeProto
            attr.string(1, a.name)
            if ('int' in a) { attr.varint(20, 2); attr.varint(3, a.int) } // INT
            else if ('ints' in a) { attr.varint(20, 7); for (const i of a.ints) attr.varint(8, i) } // INTS
            else { attr.varint(20, 1); attr.float(2, a.float) } // FLOAT
          })
        }
      })
    }
    graph.string(2, 'grpo-lab-gpt')
    for (const t of g.inits) {
      graph.message(5, (tensor) => { // TensorProto
        for (const d of t.dims) tensor.varint(1, d)
        tensor.varint(2, t.dataType)
        tensor.string(8, t.name)
        tensor.bytes(9, t.raw) // raw_data, little-endian
      })
    }
    for (const v of inputs) graph.message(11, (vi) => writeValueInfo(vi, v))
    for (const v of outputs) graph.message(12, (vi) => writeValueInfo(vi, v))
  })
  return m.finish()
}

/** A live model as ONNX: one readback of the flat parameters. */
export async function exportGptOnnx(model: GPT, options: OnnxExportOptions): Promise<Uint8Array> {
  const flat = await model.readFlat()
  return exportOnnx(model.config, tensorsFromFlat(model.config, model.backend.alignment, flat), options)
}

/** A loaded checkpoint as ONNX, with its tokenizer and metadata. */
export function onnxFromCheckpoint(ck: Checkpoint, options: { kvCache: boolean }): Uint8Array {
  return exportOnnx(ck.config, ck.tensors, { kvCache: options.kvCache, tokenizer: ck.tokenizer, metadata: ck.metadata })
}

/** A safetensors checkpoint file's contents as ONNX. */
export function onnxFromSafetensors(bytes: Uint8Array, options: { kvCache: boolean }): Uint8Array {
  return onnxFromCheckpoint(loadSafetensors(bytes), options)
}
