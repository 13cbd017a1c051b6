// All parameters live in one flat buffer (and their gradients, and AdamW's moments, in buffers
// of the same layout), so the optimizer is one dispatch and the gradient norm one reduction.
// Each tensor starts on the backend's alignment (256 bytes on WebGPU, so it can be bound alone).
// Matrices come first: weight decay applies to [0, decayEnd) only.

import type { GPTConfig } from './config'

export interface ParamSpec {
  name: string
  shape: number[]
  offset: number
  length: number
}

export interface ParamLayout {
  specs: ParamSpec[]
  byName: Map<string, ParamSpec>
  /** total elements, padding included */
  total: number
  /** elements before this offset are decayed matrices */
  decayEnd: number
}

export function layerNames(l: number) {
  const p = `h.${l}`
  return {
    ln1w: `${p}.ln_1.weight`, ln1b: `${p}.ln_1.bias`,
    qkvw: `${p}.attn.c_attn.weight`, qkvb: `${p}.attn.c_attn.bias`,
    projw: `${p}.attn.c_proj.weight`, projb: `${p}.attn.c_proj.bias`,
    ln2w: `${p}.ln_2.weight`, ln2b: `${p}.ln_2.bias`,
    fcw: `${p}.mlp.c_fc.weight`, fcb: `${p}.mlp.c_fc.bias`,
    fcprojw: `${p}.mlp.c_proj.weight`, fcprojb: `${p}.mlp.c_proj.bias`,
  }
}

export function paramLayout(c: GPTConfig, alignment: number): ParamLayout {
  const C = c.nEmbd
  const matrices: [string, number[]][] = [['wte', [c.vocabSize, C]], ['wpe', [c.blockSize, C]]]
  const vectors: [string, number[]][] = []
  for (let l = 0; l < c.nLayer; l++) {
    const n = layerNames(l)
    matrices.push([n.qkvw, [3 * C, C]], [n.projw, [C, C]], [n.fcw, [4 * C, C]], [n.fcprojw, [C, 4 * C]])
    vectors.push([n.ln1w, [C]], [n.ln1b, [C]], [n.qkvb, [3 * C]], [n.projb, [C]],
      [n.ln2w, [C]], [n.ln2b, [C]], [n.fcb, [4 * C]], [n.fcprojb, [C]])
  }
  matrices.push(['lm_head.weight', [c.vocabSize, C]])
  vectors.push(['ln_f.weight', [C]], ['ln_f.bias', [C]])

  const specs: ParamSpec[] = []
  let offset = 0
  let decayEnd = 0
  const place = ([name, shape]: [string, number[]]) => {
    const length = shape.reduce((a, b) => a * b, 1)
    specs.push({ name, shape, offset, length })
    offset = Math.ceil((offset + length) / alignment) * alignment
  }
  matrices.forEach(place)
  decayEnd = offset
  vectors.forEach(place)
  return { specs, byName: new Map(specs.map((s) => [s.name, s])), total: offset, decayEnd }
}
