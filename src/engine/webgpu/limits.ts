// What the kernels ask of a WebGPU device, read from their WGSL source, and the device limits
// that follow: the kernels are written to fit the limits every WebGPU adapter guarantees, so a
// device is requested with those defaults, and an adapter that offers less than a kernel needs
// is refused with the limit's name. Only the buffer sizes, which depend on the run and not on
// the kernels, are requested at the adapter's best (see bufferLimits).

import { resolveIncludes, type ShaderSources } from './shaderSources'

/** The limits every WebGPU device has without asking (the specification's defaults). */
export const GUARANTEED_LIMITS = {
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBuffersPerShaderStage: 12,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
} as const

export type KernelLimit = 'maxComputeWorkgroupStorageSize' | 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupSizeX'
  | 'maxComputeWorkgroupSizeY' | 'maxComputeWorkgroupSizeZ' | 'maxStorageBuffersPerShaderStage' | 'maxUniformBuffersPerShaderStage'

/** What one entry point needs, from its source (what it statically uses, as layout 'auto' counts). */
export interface EntryPointNeeds {
  module: string
  entry: string
  /** binding numbers (group 0) of the storage buffers and of the uniform buffers it uses */
  storageBindings: number[]
  uniformBindings: number[]
  /** Σ roundUp(16, size) over the workgroup variables it uses (how WebGPU counts them) */
  workgroupBytes: number
  workgroupSize: [number, number, number]
}

export class LimitError extends Error {
  constructor(readonly limit: string, message: string) {
    super(`${limit}: ${message}`)
  }
}

// ---- reading the WGSL --------------------------------------------------------------------------
interface ModuleVar { name: string; space: string; binding: number | null; type: string }
interface Fn { name: string; attributes: string; body: string }

const stripComments = (code: string): string => code.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '')

/** The module's top level: text outside braces, and each braced item with its header. */
function topLevel(code: string): { decls: string; blocks: { header: string; body: string }[] } {
  let decls = ''
  const blocks: { header: string; body: string }[] = []
  let header = ''
  for (let i = 0; i < code.length; i++) {
    const ch = code[i]
    if (ch !== '{') {
      header += ch
      if (ch === ';') { decls += header; header = '' }
      continue
    }
    let depth = 1
    let j = i + 1
    for (; j < code.length && depth > 0; j++) depth += code[j] === '{' ? 1 : code[j] === '}' ? -1 : 0
    blocks.push({ header, body: code.slice(i + 1, j - 1) })
    header = ''
    i = j - 1
  }
  return { decls: decls + header, blocks }
}

function moduleVars(decls: string): ModuleVar[] {
  const out: ModuleVar[] = []
  const re = /(?:@group\(\s*(\d+)\s*\)\s*@binding\(\s*(\d+)\s*\)\s*)?\bvar\s*<\s*(\w+)\s*(?:,\s*\w+\s*)?>\s*(\w+)\s*:\s*([^;]+);/g
  for (const m of decls.matchAll(re)) {
    if (m[1] !== undefined && m[1] !== '0') throw new Error(`${m[4]}: bind group ${m[1]}; the backend binds group 0 only`)
    out.push({ name: m[4], space: m[3], binding: m[2] === undefined ? null : Number(m[2]), type: m[5].trim() })
  }
  return out
}

function integerConsts(decls: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const m of decls.matchAll(/\bconst\s+(\w+)\s*(?::\s*\w+\s*)?=\s*(\d+)[ui]?\s*;/g)) out.set(m[1], Number(m[2]))
  return out
}

function integer(text: string, consts: Map<string, number>, what: string): number {
  const t = text.trim().replace(/^(\d+)[ui]?$/, '$1')
  if (/^\d+$/.test(t)) return Number(t)
  const v = consts.get(t)
  if (v === undefined) throw new Error(`${what}: cannot read '${text.trim()}' as a whole number (a literal or a const of one)`)
  return v
}

/** Split a type's generic arguments at top-level commas: "array<f32, 17>, 64" → ["array<f32, 17>", "64"]. */
function typeArgs(inner: string): string[] {
  const out: string[] = []
  let depth = 0; let start = 0
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === '<') depth++
    else if (inner[i] === '>') depth--
    else if (inner[i] === ',' && depth === 0) { out.push(inner.slice(start, i).trim()); start = i + 1 }
  }
  out.push(inner.slice(start).trim())
  return out
}

interface Layout { size: number; align: number }

/** WGSL's size and alignment of a type (scalars, vectors, atomics, fixed arrays, structs). */
function layoutOf(type: string, consts: Map<string, number>, structs: Map<string, string[]>): Layout {
  const t = type.trim()
  if (/^(f32|u32|i32|atomic<\s*(u32|i32)\s*>)$/.test(t)) return { size: 4, align: 4 }
  const vec = /^vec([234])\s*<\s*(f32|u32|i32)\s*>$/.exec(t) ?? /^vec([234])([fui])$/.exec(t)
  if (vec) { const n = Number(vec[1]); return { size: 4 * n, align: n === 2 ? 8 : 16 } }
  const arr = /^array\s*<([\s\S]+)>$/.exec(t)
  if (arr) {
    const [elem, count] = typeArgs(arr[1])
    if (count === undefined) throw new Error(`${t}: a runtime-sized array cannot be workgroup storage`)
    const e = layoutOf(elem, consts, structs)
    const stride = Math.ceil(e.size / e.align) * e.align
    return { size: stride * integer(count, consts, t), align: e.align }
  }
  const fields = structs.get(t)
  if (fields) {
    let offset = 0; let align = 1
    for (const f of fields) {
      const l = layoutOf(f, consts, structs)
      offset = Math.ceil(offset / l.align) * l.align + l.size
      align = Math.max(align, l.align)
    }
    return { size: Math.ceil(offset / align) * align, align }
  }
  throw new Error(`cannot size the WGSL type '${t}'`)
}

/** Every compute entry point of every kernel file, with what it uses. */
export function kernelNeeds(sources: ShaderSources): EntryPointNeeds[] {
  const out: EntryPointNeeds[] = []
  for (const name of Object.keys(sources).sort()) {
    if (!sources[name].includes('@compute')) continue // include-only files
    const code = stripComments(resolveIncludes(name, sources))
    const { decls, blocks } = topLevel(code)
    const consts = integerConsts(decls)
    const vars = moduleVars(decls)
    const structs = new Map<string, string[]>()
    const fns = new Map<string, Fn>()
    for (const b of blocks) {
      const s = /\bstruct\s+(\w+)\s*$/.exec(b.header)
      if (s) { structs.set(s[1], typeArgs(b.body).filter(Boolean).map((f) => f.slice(f.indexOf(':') + 1).trim())); continue }
      const f = /([\s\S]*?)\bfn\s+(\w+)\s*\(/.exec(b.header)
      if (f) fns.set(f[2], { name: f[2], attributes: f[1], body: b.header.slice(f.index + f[0].length) + b.body })
    }
    const byName = new Map(vars.map((v) => [v.name, v]))
    for (const fn of fns.values()) {
      if (!/@compute\b/.test(fn.attributes)) continue
      const used = usedVars(fn.name, fns, byName)
      const size = /@workgroup_size\(([^)]*)\)/.exec(fn.attributes)
      if (!size) throw new Error(`shaders/${name}.wgsl ${fn.name}: @compute without @workgroup_size`)
      const dims = size[1].split(',').map((x) => x.trim()).filter(Boolean).map((x) => integer(x, consts, `${name}.${fn.name} workgroup size`))
      const binding = (space: string) => used.filter((v) => v.space === space).map((v) => v.binding!).sort((a, b) => a - b)
      out.push({
        module: name, entry: fn.name, storageBindings: binding('storage'), uniformBindings: binding('uniform'),
        workgroupBytes: used.filter((v) => v.space === 'workgroup')
          .reduce((s, v) => s + Math.ceil(layoutOf(v.type, consts, structs).size / 16) * 16, 0),
        workgroupSize: [dims[0], dims[1] ?? 1, dims[2] ?? 1],
      })
    }
  }
  return out
}

/** The module variables an entry point uses, through every function it calls. */
function usedVars(entry: string, fns: Map<string, Fn>, vars: Map<string, ModuleVar>): ModuleVar[] {
  const seen = new Set<string>([entry])
  const used = new Set<ModuleVar>()
  const queue = [entry]
  while (queue.length) {
    for (const id of fns.get(queue.pop()!)!.body.match(/\b[A-Za-z_]\w*\b/g) ?? []) {
      const v = vars.get(id)
      if (v) used.add(v)
      else if (fns.has(id) && !seen.has(id)) { seen.add(id); queue.push(id) }
    }
  }
  return [...used]
}

/** GPUSupportedLimits as a plain record (its fields are getters on the prototype, not own keys). */
export function adapterLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {}
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      const v = (limits as unknown as Record<string, unknown>)[key]
      if (typeof v === 'number') out[key] = v
    }
  }
  return out
}

// ---- the limits that follow --------------------------------------------------------------------
/** Per kernel limit, the most any entry point needs and which one needs it. */
export function kernelLimits(needs: EntryPointNeeds[]): Record<KernelLimit, { need: number; by: string }> {
  const of: Record<KernelLimit, (e: EntryPointNeeds) => number> = {
    maxComputeWorkgroupStorageSize: (e) => e.workgroupBytes,
    maxComputeInvocationsPerWorkgroup: (e) => e.workgroupSize[0] * e.workgroupSize[1] * e.workgroupSize[2],
    maxComputeWorkgroupSizeX: (e) => e.workgroupSize[0],
    maxComputeWorkgroupSizeY: (e) => e.workgroupSize[1],
    maxComputeWorkgroupSizeZ: (e) => e.workgroupSize[2],
    maxStorageBuffersPerShaderStage: (e) => e.storageBindings.length,
    maxUniformBuffersPerShaderStage: (e) => e.uniformBindings.length,
  }
  const out = {} as Record<KernelLimit, { need: number; by: string }>
  for (const limit of Object.keys(of) as KernelLimit[]) {
    out[limit] = { need: 0, by: '' }
    for (const e of needs) {
      const n = of[limit](e)
      if (n > out[limit].need) out[limit] = { need: n, by: `shaders/${e.module}.wgsl ${e.entry}` }
    }
  }
  return out
}

/**
 * The requiredLimits for requestDevice. A kernel limit is requested only where some kernel needs
 * more than WebGPU guarantees (none does today: the defaults are enough); an adapter offering
 * less than a kernel needs is refused, naming the limit and the kernel.
 */
export function requiredLimits(adapter: Readonly<Record<string, number>>, needs: EntryPointNeeds[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [limit, { need, by }] of Object.entries(kernelLimits(needs)) as [KernelLimit, { need: number; by: string }][]) {
    const offered = adapter[limit] ?? GUARANTEED_LIMITS[limit]
    if (offered < need) {
      throw new LimitError(limit, `${by} needs ${need}, and this adapter offers ${offered} (WebGPU guarantees ${GUARANTEED_LIMITS[limit]})`)
    }
    if (need > GUARANTEED_LIMITS[limit]) out[limit] = need
  }
  return { ...out, ...bufferLimits(adapter) }
}

/**
 * Buffer sizes are the run's, not the kernels': the attention probabilities alone are
 * B·NH·T² floats, and the model, batch and context are chosen after the device exists. So these
 * two are requested at what the adapter offers (asking costs nothing), and createBuffer refuses a
 * buffer past them with the limit's name (checkBufferSize).
 */
export function bufferLimits(adapter: Readonly<Record<string, number>>): Record<string, number> {
  return {
    maxStorageBufferBindingSize: adapter.maxStorageBufferBindingSize ?? GUARANTEED_LIMITS.maxStorageBufferBindingSize,
    maxBufferSize: adapter.maxBufferSize ?? GUARANTEED_LIMITS.maxBufferSize,
  }
}

/** Every buffer is a storage buffer that may be bound whole: it must fit both limits. */
export function checkBufferSize(label: string, bytes: number,
  limits: { readonly maxBufferSize: number; readonly maxStorageBufferBindingSize: number }): void {
  for (const limit of ['maxBufferSize', 'maxStorageBufferBindingSize'] as const) {
    if (bytes > limits[limit]) {
      throw new LimitError(limit, `buffer '${label}' needs ${bytes} bytes, and this device allows ${limits[limit]} ` +
        `(WebGPU guarantees ${GUARANTEED_LIMITS[limit]}); a smaller batch, context or model fits`)
    }
  }
}
