// Counter-based randomness: a value depends only on (seed, stream, a, b), never on call order.
// The same integer hash is written in shaders/rng.wgsl; both give identical bits.

/** lowbias32 (Chris Wellons' hash-prospector): a bijective 32-bit mixer. */
export function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0
  x = Math.imul(x, 0x7feb352d) >>> 0
  x = (x ^ (x >>> 15)) >>> 0
  x = Math.imul(x, 0x846ca68b) >>> 0
  x = (x ^ (x >>> 16)) >>> 0
  return x
}

/** 32 random bits for counter (a, b) in stream `stream` of `seed`. */
export function randomBits(seed: number, stream: number, a: number, b: number): number {
  let h = hash32((seed ^ 0x9e3779b9) >>> 0)
  h = hash32((h ^ stream) >>> 0)
  h = hash32((h + Math.imul(a, 0x85ebca6b)) >>> 0)
  h = hash32((h ^ Math.imul(b, 0xc2b2ae35)) >>> 0)
  return h
}

/** Uniform in [0, 1) with 24 bits: exactly representable in float32, so WGSL gives the same. */
export function uniform(seed: number, stream: number, a: number, b: number): number {
  return (randomBits(seed, stream, a, b) >>> 8) / 16777216
}

/** Standard normal (Box–Muller) from two uniforms; used on the host for initialisation. */
export function normal(seed: number, stream: number, index: number): number {
  const u1 = uniform(seed, stream, index, 0)
  const u2 = uniform(seed, stream, index, 1)
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)
}

/** Streams: one per purpose, so adding a consumer never shifts another's numbers. */
export const Stream = {
  init: 1,
  sample: 2,
  data: 3,
  task: 4,
} as const
