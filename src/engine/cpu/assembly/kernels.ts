// The fast CPU backend's kernels (AssemblyScript → WebAssembly, 128-bit SIMD), the twins of
// src/engine/cpu/cpuBackend.ts. Every thread runs its own instance of this module on one shared
// memory; the host (src/engine/cpu/wasmKernels.ts) writes a kernel's arguments into ARGS and hands
// out its parts, and `run` computes one part.
//
// Determinism: a part is a range of outputs (rows, columns, heads, sequences), and every output is
// computed by the same instructions in the same order whichever part it falls in, so the numbers
// do not depend on how many parts or threads there are. No reduction is split across parts except
// AdamW's norm, whose partial sums are over fixed chunks and are added up by the host in order.
//
// Arguments are f64 slots (pointers are byte addresses, sizes are element counts). Scratch for a
// thread lies at args[TMP_BASE] + thread · args[TMP_STRIDE].

// ---- the host ------------------------------------------------------------------------------------
/** JavaScript's Math.exp: the sampler must pick exactly the tokens the TypeScript twin picks. */
@external("env", "exp") declare function hostExp(x: f64): f64
/** JavaScript's Math.log (once per row; AssemblyScript's own would bring a table of static data,
 *  which every thread's instance would write again into the shared memory). */
@external("env", "log") declare function hostLog(x: f64): f64

let ARGS: usize = 0
const TMP_BASE = 62
const TMP_STRIDE = 63

export function init(args: usize): void { ARGS = args }

/** Kernel numbers, read by the host from these exports. */
export const K_MATMUL: i32 = 1
export const K_PACK: i32 = 2
export const K_BIAS_GRAD: i32 = 3
export const K_LAYERNORM_FORWARD: i32 = 4
export const K_LAYERNORM_BACKWARD: i32 = 5
export const K_ATTENTION_FORWARD: i32 = 6
export const K_ATTENTION_BACKWARD: i32 = 7
export const K_ATTENTION_DECODE: i32 = 8
export const K_GELU_FORWARD: i32 = 9
export const K_GELU_BACKWARD: i32 = 10
export const K_LOGPROB_FORWARD: i32 = 11
export const K_LOGPROB_BACKWARD: i32 = 12
export const K_EMBEDDING_FORWARD: i32 = 13
export const K_EMBEDDING_BACKWARD: i32 = 14
export const K_EMBEDDING_AT: i32 = 15
export const K_SUMSQ: i32 = 16
export const K_ADAMW: i32 = 17
export const K_ADD: i32 = 18
export const K_DECODE: i32 = 19
/** elements per AdamW norm chunk (a fixed size: the norm's partial sums never depend on the parts) */
export const SUMSQ_CHUNK: i32 = 4096
/** matmul tiles: rows × columns (B is read 8 columns at a time: pad its rows to a multiple of 8) */
export const TILE_M: i32 = 4
export const TILE_N: i32 = 8
/** 1 when this build multiplies-adds with relaxed SIMD's f32x4.relaxed_madd */
export const RELAXED: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0

export function run(kernel: i32, part: i32, parts: i32, thread: i32): void {
  const tmp = ptr(TMP_BASE) + <usize>thread * ptr(TMP_STRIDE)
  switch (kernel) {
    case K_MATMUL: matmul(part, parts, tmp); break
    case K_PACK: pack(part, parts); break
    case K_BIAS_GRAD: biasGrad(part, parts); break
    case K_LAYERNORM_FORWARD: layernormForward(part, parts); break
    case K_LAYERNORM_BACKWARD: layernormBackward(part, parts); break
    case K_ATTENTION_FORWARD: attentionForward(part, parts); break
    case K_ATTENTION_BACKWARD: attentionBackward(part, parts); break
    case K_ATTENTION_DECODE: attentionDecode(part, parts, tmp); break
    case K_GELU_FORWARD: geluForward(part, parts); break
    case K_GELU_BACKWARD: geluBackward(part, parts); break
    case K_LOGPROB_FORWARD: logprobForward(part, parts); break
    case K_LOGPROB_BACKWARD: logprobBackward(part, parts); break
    case K_EMBEDDING_FORWARD: embeddingForward(part, parts); break
    case K_EMBEDDING_BACKWARD: embeddingBackward(part, parts, tmp); break
    case K_EMBEDDING_AT: embeddingAt(part, parts); break
    case K_SUMSQ: sumsq(part, parts); break
    case K_ADAMW: adamw(part, parts); break
    case K_ADD: add(part, parts); break
    case K_DECODE: decode(part, parts, tmp); break
    default: unreachable()
  }
}

// ---- helpers -------------------------------------------------------------------------------------
@inline function arg(i: i32): f64 { return load<f64>(ARGS + (<usize>i << 3)) }
@inline function int(i: i32): i32 { return <i32>load<f64>(ARGS + (<usize>i << 3)) }
@inline function ptr(i: i32): usize { return <usize>load<f64>(ARGS + (<usize>i << 3)) }
/** The start of part `part` of `parts` over [0, total). */
@inline function lo(total: i32, part: i32, parts: i32): i32 { return <i32>((<i64>total * part) / parts) }
@inline function at(base: usize, i: i32): usize { return base + (<usize>i << 2) }
@inline function at8(base: usize, i: i32): usize { return base + (<usize>i << 3) }
@inline function f32at(base: usize, i: i32): f32 { return load<f32>(base + (<usize>i << 2)) }
@inline function splat(x: f32): v128 { return f32x4.splat(x) }

/** c + a·b: fused where this build has relaxed SIMD and the machine an FMA, else rounded twice. */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c)
  return f32x4.add(c, f32x4.mul(a, b))
}
@inline function smadd(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(madd(splat(a), splat(b), splat(c)), 0)
}

/** (v0 + v2) + (v1 + v3): one fixed order. */
@inline function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1))
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1)
}
@inline function hmax(v: v128): f32 {
  const s = f32x4.max(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1))
  return max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1))
}

/** Σ x[i]·y[i]: four lanes over the first n & ~3, then the rest in order. */
function dot(x: usize, y: usize, n: i32): f32 {
  let acc = splat(0)
  let i = 0
  for (; i + 4 <= n; i += 4) acc = madd(v128.load(at(x, i)), v128.load(at(y, i)), acc)
  let s = hsum(acc)
  for (; i < n; i++) s = smadd(f32at(x, i), f32at(y, i), s)
  return s
}

/** dot(x, y_j, n) for the four vectors y_j = y + j·stride floats, as one vector: the same sums
 *  (each lane's hsum is (v0 + v2) + (v1 + v3), then the tail), four at a time. */
function dot4(x: usize, y: usize, stride: i32, n: i32): v128 {
  const y1 = at(y, stride); const y2 = at(y, 2 * stride); const y3 = at(y, 3 * stride)
  let a0 = splat(0); let a1 = splat(0); let a2 = splat(0); let a3 = splat(0)
  let i = 0
  for (; i + 4 <= n; i += 4) {
    const xv = v128.load(at(x, i))
    a0 = madd(xv, v128.load(at(y, i)), a0); a1 = madd(xv, v128.load(at(y1, i)), a1)
    a2 = madd(xv, v128.load(at(y2, i)), a2); a3 = madd(xv, v128.load(at(y3, i)), a3)
  }
  // transpose-add: lane j = (a_j0 + a_j2) + (a_j1 + a_j3)
  const u01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7))
  const u23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7))
  let s = f32x4.add(v128.shuffle<f32>(u01, u23, 0, 1, 4, 5), v128.shuffle<f32>(u01, u23, 2, 3, 6, 7))
  for (; i < n; i++) {
    const xs = f32at(x, i)
    s = f32x4.replace_lane(s, 0, smadd(xs, f32at(y, i), f32x4.extract_lane(s, 0)))
    s = f32x4.replace_lane(s, 1, smadd(xs, f32at(y1, i), f32x4.extract_lane(s, 1)))
    s = f32x4.replace_lane(s, 2, smadd(xs, f32at(y2, i), f32x4.extract_lane(s, 2)))
    s = f32x4.replace_lane(s, 3, smadd(xs, f32at(y3, i), f32x4.extract_lane(s, 3)))
  }
  return s
}

/** row[j] = dot(q, k_j, n) · scale for j ≤ last, k_j = k + j·stride floats; returns their max. */
function scoreRow(row: usize, q: usize, k: usize, stride: i32, n: i32, last: i32, scale: f32): f32 {
  const sv = splat(scale)
  let mv = splat(<f32>-Infinity)
  let j = 0
  for (; j + 4 <= last + 1; j += 4) {
    const w = f32x4.mul(dot4(q, at(k, j * stride), stride, n), sv)
    v128.store(at(row, j), w)
    mv = f32x4.max(mv, w)
  }
  let max = hmax(mv)
  for (; j <= last; j++) {
    const w = dot(q, at(k, j * stride), n) * scale
    store<f32>(at(row, j), w)
    max = Mathf.max(max, w)
  }
  return max
}

/** e^x for four lanes: 2^n · e^r with n = round(x / ln 2) and r = x − n·ln 2 (Cody–Waite), e^r by
 *  its Taylor series to r⁷ (relative error < 2e-7); x is clamped to [−87, 88], where 2^n stays a
 *  normal float. n is rounded by adding 1.5·2²³, which leaves it in the low bits of the sum. */
@inline function expv(x: v128): v128 {
  x = f32x4.pmax(f32x4.pmin(x, splat(88.0)), splat(-87.0))
  const t = f32x4.add(f32x4.mul(x, splat(1.44269504089)), splat(12582912.0))
  const n = f32x4.sub(t, splat(12582912.0))
  let r = f32x4.sub(x, f32x4.mul(n, splat(0.693359375)))
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)))
  let p = splat(1.0 / 5040.0)
  p = madd(p, r, splat(1.0 / 720.0))
  p = madd(p, r, splat(1.0 / 120.0))
  p = madd(p, r, splat(1.0 / 24.0))
  p = madd(p, r, splat(1.0 / 6.0))
  p = madd(p, r, splat(0.5))
  p = madd(p, r, splat(1.0))
  p = madd(p, r, splat(1.0))
  // (n + 127) << 23 from the sum's bits: the 1.5·2²³ part is shifted out
  return f32x4.mul(p, i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23))
}
/** The same e^x for one value (a row's tail gives the numbers its lanes would). */
@inline function exps(x: f32): f32 { return f32x4.extract_lane(expv(splat(x)), 0) }

/** tanh(y) = 1 − 2 / (e^{2y} + 1) for four lanes. */
@inline function tanhv(y: v128): v128 {
  const e = expv(f32x4.add(y, y))
  return f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e, splat(1))))
}

// ---- matmul --------------------------------------------------------------------------------------
// out[m, n] = Σ_k A(m, k) · B[k, n] (+ bias[n]) (+ out[m, n]): A(m, k) at a + (m·sam + k·sak)·4, so
// the same loop reads A as [M, K] or as [K, M] (transA); B is [K, ≥ roundUp(N, 8)] with row stride
// ldb (the host packs it when it is [N, K] or its rows are not a multiple of 8). A tile is 4 rows
// × 8 columns; rows past M read row M − 1 and are not stored, so every output is computed by the
// same instructions. K runs in blocks of KB, each summed on its own and added to the total, which
// keeps long sums (K = batch × positions in weight gradients) accurate in float32.
const KB = 256
/** K per block of a matmul (past it, the host gives each part scratch for its tiles' totals) */
export const MATMUL_KB: i32 = KB

function mmTile(out: usize, ldo: i32, rows: i32, cols: i32, a: usize, sam: i32, sak: i32, M: i32, m0: i32,
  b: usize, ldb: i32, K: i32, bias: usize, accumulate: bool, tmp: usize): void {
  const a0 = at(a, min(m0, M - 1) * sam); const a1 = at(a, min(m0 + 1, M - 1) * sam)
  const a2 = at(a, min(m0 + 2, M - 1) * sam); const a3 = at(a, min(m0 + 3, M - 1) * sam)
  const stepA = <usize>sak << 2; const stepB = <usize>ldb << 2
  let t00 = splat(0); let t01 = splat(0); let t10 = splat(0); let t11 = splat(0)
  let t20 = splat(0); let t21 = splat(0); let t30 = splat(0); let t31 = splat(0)
  for (let k0 = 0; k0 < K; k0 += KB) {
    const k1 = min(K, k0 + KB)
    let c00 = splat(0); let c01 = splat(0); let c10 = splat(0); let c11 = splat(0)
    let c20 = splat(0); let c21 = splat(0); let c30 = splat(0); let c31 = splat(0)
    let pa = <usize>k0 * stepA
    let pb = b + <usize>k0 * stepB
    for (let k = k0; k < k1; k++) {
      const b0 = v128.load(pb); const b1 = v128.load(pb, 16)
      let x = v128.load32_splat(a0 + pa)
      c00 = madd(x, b0, c00); c01 = madd(x, b1, c01)
      x = v128.load32_splat(a1 + pa)
      c10 = madd(x, b0, c10); c11 = madd(x, b1, c11)
      x = v128.load32_splat(a2 + pa)
      c20 = madd(x, b0, c20); c21 = madd(x, b1, c21)
      x = v128.load32_splat(a3 + pa)
      c30 = madd(x, b0, c30); c31 = madd(x, b1, c31)
      pa += stepA; pb += stepB
    }
    t00 = f32x4.add(t00, c00); t01 = f32x4.add(t01, c01); t10 = f32x4.add(t10, c10); t11 = f32x4.add(t11, c11)
    t20 = f32x4.add(t20, c20); t21 = f32x4.add(t21, c21); t30 = f32x4.add(t30, c30); t31 = f32x4.add(t31, c31)
  }
  storeRow(out, cols, t00, t01, bias, accumulate, tmp)
  if (rows > 1) storeRow(out + (<usize>ldo << 2), cols, t10, t11, bias, accumulate, tmp)
  if (rows > 2) storeRow(out + (<usize>ldo << 3), cols, t20, t21, bias, accumulate, tmp)
  if (rows > 3) storeRow(out + (<usize>ldo * 12), cols, t30, t31, bias, accumulate, tmp)
}

/** One tile row: (sum + bias) + out, in that order, as the TypeScript twin adds them. */
@inline function storeRow(o: usize, cols: i32, v0: v128, v1: v128, bias: usize, accumulate: bool, tmp: usize): void {
  if (cols === 8) {
    if (bias) { v0 = f32x4.add(v0, v128.load(bias)); v1 = f32x4.add(v1, v128.load(bias, 16)) }
    if (accumulate) { v0 = f32x4.add(v0, v128.load(o)); v1 = f32x4.add(v1, v128.load(o, 16)) }
    v128.store(o, v0); v128.store(o, v1, 16)
    return
  }
  v128.store(tmp, v0); v128.store(tmp, v1, 16)
  for (let j = 0; j < cols; j++) {
    let s = f32at(tmp, j)
    if (bias) s += f32at(bias, j)
    if (accumulate) s += f32at(o, j)
    store<f32>(at(o, j), s)
  }
}

/** Rows [m0, m1) (in tiles) × columns [n0, n1) (in tiles) of one matmul. */
function mmRange(out: usize, ldo: i32, a: usize, sam: i32, sak: i32, M: i32, b: usize, ldb: i32, N: i32, K: i32,
  bias: usize, accumulate: bool, tm0: i32, tm1: i32, tn0: i32, tn1: i32, tmp: usize): void {
  for (let i = tm0; i < tm1; i++) {
    const m0 = i * TILE_M; const rows = min(TILE_M, M - m0)
    for (let j = tn0; j < tn1; j++) {
      const n0 = j * TILE_N; const cols = min(TILE_N, N - n0)
      mmTile(at(out, m0 * ldo + n0), ldo, rows, cols, a, sam, sak, M, m0, at(b, n0), ldb, K,
        bias ? at(bias, n0) : 0, accumulate, tmp)
    }
  }
}

/** The tiles of mmRange with K outermost: each block of KB rows of A and B is taken by every tile
 *  of the range while it is in cache, the tiles' totals kept in scratch (`tot`, 32 floats a tile).
 *  Every output's sum is mmTile's, 0 + block 0 + block 1 + …, so the two give the same bits. */
function mmRangeBlocked(out: usize, ldo: i32, a: usize, sam: i32, sak: i32, M: i32, b: usize, ldb: i32, N: i32, K: i32,
  bias: usize, accumulate: bool, tm0: i32, tm1: i32, tn0: i32, tn1: i32, tmp: usize, tot: usize): void {
  memory.fill(tot, 0, <usize>((tm1 - tm0) * (tn1 - tn0)) << 7)
  const stepA = <usize>sak << 2; const stepB = <usize>ldb << 2
  for (let k0 = 0; k0 < K; k0 += KB) {
    const k1 = min(K, k0 + KB)
    let t = tot
    for (let i = tm0; i < tm1; i++) {
      const m0 = i * TILE_M
      const a0 = at(a, min(m0, M - 1) * sam); const a1 = at(a, min(m0 + 1, M - 1) * sam)
      const a2 = at(a, min(m0 + 2, M - 1) * sam); const a3 = at(a, min(m0 + 3, M - 1) * sam)
      for (let j = tn0; j < tn1; j++) {
        let c00 = splat(0); let c01 = splat(0); let c10 = splat(0); let c11 = splat(0)
        let c20 = splat(0); let c21 = splat(0); let c30 = splat(0); let c31 = splat(0)
        let pa = <usize>k0 * stepA
        let pb = at(b, j * TILE_N) + <usize>k0 * stepB
        for (let k = k0; k < k1; k++) {
          const b0 = v128.load(pb); const b1 = v128.load(pb, 16)
          let x = v128.load32_splat(a0 + pa)
          c00 = madd(x, b0, c00); c01 = madd(x, b1, c01)
          x = v128.load32_splat(a1 + pa)
          c10 = madd(x, b0, c10); c11 = madd(x, b1, c11)
          x = v128.load32_splat(a2 + pa)
          c20 = madd(x, b0, c20); c21 = madd(x, b1, c21)
          x = v128.load32_splat(a3 + pa)
          c30 = madd(x, b0, c30); c31 = madd(x, b1, c31)
          pa += stepA; pb += stepB
        }
        v128.store(t, f32x4.add(v128.load(t), c00)); v128.store(t, f32x4.add(v128.load(t, 16), c01), 16)
        v128.store(t, f32x4.add(v128.load(t, 32), c10), 32); v128.store(t, f32x4.add(v128.load(t, 48), c11), 48)
        v128.store(t, f32x4.add(v128.load(t, 64), c20), 64); v128.store(t, f32x4.add(v128.load(t, 80), c21), 80)
        v128.store(t, f32x4.add(v128.load(t, 96), c30), 96); v128.store(t, f32x4.add(v128.load(t, 112), c31), 112)
        t += 128
      }
    }
  }
  let t = tot
  for (let i = tm0; i < tm1; i++) {
    const m0 = i * TILE_M; const rows = min(TILE_M, M - m0)
    for (let j = tn0; j < tn1; j++) {
      const n0 = j * TILE_N; const cols = min(TILE_N, N - n0)
      const o = at(out, m0 * ldo + n0); const bs = bias ? at(bias, n0) : 0
      for (let r = 0; r < rows; r++) {
        storeRow(o + (<usize>(r * ldo) << 2), cols, v128.load(t + (<usize>r << 5)), v128.load(t + (<usize>r << 5), 16), bs, accumulate, tmp)
      }
      t += 128
    }
  }
}

/** args: out, a, b, bias (0: none), M, N, K, sam, sak, ldb, ldo, accumulate, column parts;
 *  K > KB takes mmRangeBlocked, its totals in the thread's scratch after 64 bytes of its own */
function matmul(part: i32, parts: i32, tmp: usize): void {
  const M = int(4); const N = int(5); const K = int(6)
  const pn = int(12); const pm = parts / pn
  const im = part / pn; const jn = part % pn
  const tm = (M + TILE_M - 1) / TILE_M; const tn = (N + TILE_N - 1) / TILE_N
  if (K > KB) {
    mmRangeBlocked(ptr(0), int(10), ptr(1), int(7), int(8), M, ptr(2), int(9), N, K, ptr(3), int(11) !== 0,
      lo(tm, im, pm), lo(tm, im + 1, pm), lo(tn, jn, pn), lo(tn, jn + 1, pn), tmp, tmp + 64)
  } else {
    mmRange(ptr(0), int(10), ptr(1), int(7), int(8), M, ptr(2), int(9), N, K, ptr(3), int(11) !== 0,
      lo(tm, im, pm), lo(tm, im + 1, pm), lo(tn, jn, pn), lo(tn, jn + 1, pn), tmp)
  }
}

/** dst[k, n] = src(k, n) at src + (k·sk + n·sn)·4 for n < N, 0 for N ≤ n < ld; parts over k.
 *  args: dst, src, K, N, sk, sn, ld */
function pack(part: i32, parts: i32): void {
  const dst = ptr(0); const src = ptr(1); const K = int(2); const N = int(3); const sk = int(4); const sn = int(5); const ld = int(6)
  for (let k = lo(K, part, parts); k < lo(K, part + 1, parts); k++) {
    const d = at(dst, k * ld)
    for (let n = 0; n < N; n++) store<f32>(at(d, n), f32at(src, k * sk + n * sn))
    for (let n = N; n < ld; n++) store<f32>(at(d, n), 0)
  }
}

// ---- column sums (float64, rows in order) --------------------------------------------------------
/** dbias[n] (+)= Σ_m dout[m, n]; parts over blocks of 8 columns. args: dbias, dout, M, N, accumulate */
function biasGrad(part: i32, parts: i32): void {
  const d = ptr(0); const g = ptr(1); const M = int(2); const N = int(3); const accumulate = int(4) !== 0
  const blocks = (N + 7) >> 3
  for (let blk = lo(blocks, part, parts); blk < lo(blocks, part + 1, parts); blk++) {
    const c0 = blk << 3
    if (c0 + 8 <= N) {
      let s0 = f64x2.splat(0); let s1 = f64x2.splat(0); let s2 = f64x2.splat(0); let s3 = f64x2.splat(0)
      for (let m = 0; m < M; m++) {
        const p = at(g, m * N + c0)
        const x0 = v128.load(p); const x1 = v128.load(p, 16)
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(x0)); s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(x0, x0, 2, 3, 0, 1)))
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(x1)); s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(x1, x1, 2, 3, 0, 1)))
      }
      storeSum(d, c0, f64x2.extract_lane(s0, 0), accumulate); storeSum(d, c0 + 1, f64x2.extract_lane(s0, 1), accumulate)
      storeSum(d, c0 + 2, f64x2.extract_lane(s1, 0), accumulate); storeSum(d, c0 + 3, f64x2.extract_lane(s1, 1), accumulate)
      storeSum(d, c0 + 4, f64x2.extract_lane(s2, 0), accumulate); storeSum(d, c0 + 5, f64x2.extract_lane(s2, 1), accumulate)
      storeSum(d, c0 + 6, f64x2.extract_lane(s3, 0), accumulate); storeSum(d, c0 + 7, f64x2.extract_lane(s3, 1), accumulate)
    } else {
      for (let c = c0; c < N; c++) {
        let s: f64 = 0
        for (let m = 0; m < M; m++) s += <f64>f32at(g, m * N + c)
        storeSum(d, c, s, accumulate)
      }
    }
  }
}
@inline function storeSum(d: usize, i: i32, s: f64, accumulate: bool): void {
  store<f32>(at(d, i), <f32>(accumulate ? <f64>f32at(d, i) + s : s))
}

// ---- layernorm -----------------------------------------------------------------------------------
const LAYERNORM_EPS: f32 = 1e-5

/** args: out, mean, rstd, inp, weight, bias, rows, C; parts over rows */
function layernormForward(part: i32, parts: i32): void {
  const rows = int(6)
  layernormRows(ptr(0), ptr(1), ptr(2), ptr(3), ptr(4), ptr(5), int(7), lo(rows, part, parts), lo(rows, part + 1, parts))
}

/** LayerNorm of rows [r0, r1) of inp [·, C]: float32, lanes then the tail for each sum. */
function layernormRows(out: usize, mean: usize, rstd: usize, inp: usize, w: usize, b: usize, C: i32, r0: i32, r1: i32): void {
  const invC: f32 = <f32>1 / <f32>C
  for (let r = r0; r < r1; r++) {
    const x = at(inp, r * C); const o = at(out, r * C)
    let acc = splat(0); let c = 0
    for (; c + 4 <= C; c += 4) acc = f32x4.add(acc, v128.load(at(x, c)))
    let s = hsum(acc)
    for (; c < C; c++) s += f32at(x, c)
    const m = s * invC
    const mv = splat(m)
    acc = splat(0); c = 0
    for (; c + 4 <= C; c += 4) { const d = f32x4.sub(v128.load(at(x, c)), mv); acc = f32x4.add(acc, f32x4.mul(d, d)) }
    let v = hsum(acc)
    for (; c < C; c++) { const d = f32at(x, c) - m; v += d * d }
    const rs: f32 = <f32>1 / Mathf.sqrt(v * invC + LAYERNORM_EPS)
    const rsv = splat(rs)
    c = 0
    for (; c + 4 <= C; c += 4) {
      const n = f32x4.mul(f32x4.sub(v128.load(at(x, c)), mv), rsv)
      v128.store(at(o, c), f32x4.add(f32x4.mul(n, v128.load(at(w, c))), v128.load(at(b, c))))
    }
    for (; c < C; c++) store<f32>(at(o, c), (f32at(x, c) - m) * rs * f32at(w, c) + f32at(b, c))
    store<f32>(at(mean, r), m)
    store<f32>(at(rstd, r), rs)
  }
}

/** dinp += ∂L/∂inp over rows [lo, hi) of the part; dweight, dbias (+)= their column sums over
 *  columns [lo, hi) of the part, in float64 over the rows in order (as the twin).
 *  args: dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, C, accumulate */
function layernormBackward(part: i32, parts: i32): void {
  const dx = ptr(0); const dw = ptr(1); const db = ptr(2); const g = ptr(3); const inp = ptr(4); const w = ptr(5)
  const mean = ptr(6); const rstd = ptr(7); const rows = int(8); const C = int(9); const accumulate = int(10) !== 0
  const invC: f32 = <f32>1 / <f32>C
  for (let r = lo(rows, part, parts); r < lo(rows, part + 1, parts); r++) {
    const x = at(inp, r * C); const gr = at(g, r * C); const d = at(dx, r * C)
    const m = f32at(mean, r); const s = f32at(rstd, r); const mv = splat(m); const sv = splat(s)
    let a1 = splat(0); let a2 = splat(0); let c = 0
    for (; c + 4 <= C; c += 4) {
      const norm = f32x4.mul(f32x4.sub(v128.load(at(x, c)), mv), sv)
      const dn = f32x4.mul(v128.load(at(w, c)), v128.load(at(gr, c)))
      a1 = f32x4.add(a1, dn); a2 = f32x4.add(a2, f32x4.mul(dn, norm))
    }
    let dm = hsum(a1); let dnm = hsum(a2)
    for (; c < C; c++) {
      const norm = (f32at(x, c) - m) * s; const dn = f32at(w, c) * f32at(gr, c)
      dm += dn; dnm += dn * norm
    }
    dm *= invC; dnm *= invC
    const dmv = splat(dm); const dnmv = splat(dnm)
    c = 0
    for (; c + 4 <= C; c += 4) {
      const norm = f32x4.mul(f32x4.sub(v128.load(at(x, c)), mv), sv)
      const dn = f32x4.mul(v128.load(at(w, c)), v128.load(at(gr, c)))
      const delta = f32x4.mul(f32x4.sub(f32x4.sub(dn, dmv), f32x4.mul(norm, dnmv)), sv)
      v128.store(at(d, c), f32x4.add(v128.load(at(d, c)), delta))
    }
    for (; c < C; c++) {
      const norm = (f32at(x, c) - m) * s; const dn = f32at(w, c) * f32at(gr, c)
      store<f32>(at(d, c), f32at(d, c) + (dn - dm - norm * dnm) * s)
    }
  }
  for (let c = lo(C, part, parts); c < lo(C, part + 1, parts); c++) {
    let sw: f64 = 0; let sb: f64 = 0
    for (let r = 0; r < rows; r++) {
      const gv = <f64>f32at(g, r * C + c)
      sw += gv * (<f64>f32at(inp, r * C + c) - <f64>f32at(mean, r)) * <f64>f32at(rstd, r)
      sb += gv
    }
    storeSum(dw, c, sw, accumulate)
    storeSum(db, c, sb, accumulate)
  }
}

// ---- attention -----------------------------------------------------------------------------------
/** o[0..n) = Σ_{j < count} w[j] · x_j[0..n), x_j at x + j·stride floats; in j order per element
 *  (sixteen, then four lanes at a time, then one). */
function weightedSum(o: usize, w: usize, wStride: i32, count: i32, x: usize, stride: i32, n: i32): void {
  let i = 0
  for (; i + 16 <= n; i += 16) {
    let a0 = splat(0); let a1 = splat(0); let a2 = splat(0); let a3 = splat(0)
    for (let j = 0; j < count; j++) {
      const wj = v128.load32_splat(at(w, j * wStride)); const xj = at(x, j * stride + i)
      a0 = madd(wj, v128.load(xj), a0); a1 = madd(wj, v128.load(xj, 16), a1)
      a2 = madd(wj, v128.load(xj, 32), a2); a3 = madd(wj, v128.load(xj, 48), a3)
    }
    const oi = at(o, i)
    v128.store(oi, a0); v128.store(oi, a1, 16); v128.store(oi, a2, 32); v128.store(oi, a3, 48)
  }
  for (; i + 4 <= n; i += 4) {
    let acc = splat(0)
    for (let j = 0; j < count; j++) acc = madd(v128.load32_splat(at(w, j * wStride)), v128.load(at(x, j * stride + i)), acc)
    v128.store(at(o, i), acc)
  }
  for (; i < n; i++) {
    let s: f32 = 0
    for (let j = 0; j < count; j++) s = smadd(f32at(w, j * wStride), f32at(x, j * stride + i), s)
    store<f32>(at(o, i), s)
  }
}

/** row[0..n) = e^(row − max); returns their sum (lanes, then the tail in order). */
function expRow(row: usize, n: i32, max: f32): f32 {
  const mv = splat(max)
  let acc = splat(0); let i = 0
  for (; i + 4 <= n; i += 4) {
    const e = expv(f32x4.sub(v128.load(at(row, i)), mv))
    v128.store(at(row, i), e)
    acc = f32x4.add(acc, e)
  }
  let s = hsum(acc)
  for (; i < n; i++) { const e = exps(f32at(row, i) - max); store<f32>(at(row, i), e); s += e }
  return s
}

/** row[0..n) /= sum */
function divideRow(row: usize, n: i32, sum: f32): void {
  const sv = splat(sum); let i = 0
  for (; i + 4 <= n; i += 4) v128.store(at(row, i), f32x4.div(v128.load(at(row, i)), sv))
  for (; i < n; i++) store<f32>(at(row, i), f32at(row, i) / sum)
}

@inline function zeroRow(row: usize, from: i32, to: i32): void {
  for (let i = from; i < to; i++) store<f32>(at(row, i), 0)
}

/** args: out, att, qkv, B, T, C, NH; parts over (b, h) */
function attentionForward(part: i32, parts: i32): void {
  const out = ptr(0); const att = ptr(1); const qkv = ptr(2); const B = int(3); const T = int(4); const C = int(5); const NH = int(6)
  const hs = C / NH; const C3 = 3 * C; const scale = <f32>(1.0 / Math.sqrt(<f64>hs))
  for (let bh = lo(B * NH, part, parts); bh < lo(B * NH, part + 1, parts); bh++) {
    const b = bh / NH; const h = bh % NH
    const base = at(qkv, b * T * C3 + h * hs)
    for (let t = 0; t < T; t++) {
      const q = at(base, t * C3)
      const row = at(att, (bh * T + t) * T)
      const max = scoreRow(row, q, at(base, C), C3, hs, t, scale)
      const sum = expRow(row, t + 1, max)
      divideRow(row, t + 1, sum)
      zeroRow(row, t + 1, T)
      weightedSum(at(out, (b * T + t) * C + h * hs), row, 1, t + 1, at(base, 2 * C), C3, hs)
    }
  }
}

/** args: dqkv, datt, dout, qkv, att, B, T, C, NH; parts over (b, h) */
function attentionBackward(part: i32, parts: i32): void {
  const dqkv = ptr(0); const datt = ptr(1); const dout = ptr(2); const qkv = ptr(3); const att = ptr(4)
  const B = int(5); const T = int(6); const C = int(7); const NH = int(8)
  const hs = C / NH; const C3 = 3 * C; const scale = <f32>(1.0 / Math.sqrt(<f64>hs))
  for (let bh = lo(B * NH, part, parts); bh < lo(B * NH, part + 1, parts); bh++) {
    const b = bh / NH; const h = bh % NH
    const base = at(qkv, b * T * C3 + h * hs); const dbase = at(dqkv, b * T * C3 + h * hs)
    const gbase = at(dout, b * T * C + h * hs)
    // per query t: softmax backward into datt (pre-softmax, scaled), then dq
    for (let t = 0; t < T; t++) {
      const arow = at(att, (bh * T + t) * T); const drow = at(datt, (bh * T + t) * T)
      const g = at(gbase, t * C)
      scoreRow(drow, g, at(base, 2 * C), C3, hs, t, 1)
      let s: f32 = 0
      for (let t2 = 0; t2 <= t; t2++) s += f32at(arow, t2) * f32at(drow, t2)
      const sv = splat(s); const scv = splat(scale); let t2 = 0
      for (; t2 + 4 <= t + 1; t2 += 4) {
        v128.store(at(drow, t2), f32x4.mul(f32x4.mul(v128.load(at(arow, t2)), f32x4.sub(v128.load(at(drow, t2)), sv)), scv))
      }
      for (; t2 <= t; t2++) store<f32>(at(drow, t2), f32at(arow, t2) * (f32at(drow, t2) - s) * scale)
      zeroRow(drow, t + 1, T)
      weightedSum(at(dbase, t * C3), drow, 1, t + 1, at(base, C), C3, hs)
    }
    // per key t2: dk and dv gathered over the queries t ≥ t2 that saw it
    for (let t2 = 0; t2 < T; t2++) {
      const n = T - t2
      weightedSum(at(dbase, t2 * C3 + C), at(datt, (bh * T + t2) * T + t2), T, n, at(base, t2 * C3), C3, hs)
      weightedSum(at(dbase, t2 * C3 + 2 * C), at(att, (bh * T + t2) * T + t2), T, n, at(gbase, t2 * C), C, hs)
    }
  }
}

/** One position of every sequence n in [n0, n1): its k, v into the caches, then attention over
 *  positions 0..pos; scores go to `scores` + ((n − scoreRow0)·NH + h)·maxLen floats. */
function decodeAttention(out: usize, qkv: usize, kc: usize, vc: usize, C: i32, NH: i32, maxLen: i32, pos: i32,
  n0: i32, n1: i32, scores: usize, scoreRow0: i32): void {
  const hs = C / NH; const scale = <f32>(1.0 / Math.sqrt(<f64>hs))
  for (let n = n0; n < n1; n++) for (let h = 0; h < NH; h++) {
    const cache = ((n * NH + h) * maxLen) * hs
    const q = at(qkv, n * 3 * C + h * hs)
    memory.copy(at(kc, cache + pos * hs), at(q, C), <usize>hs << 2)
    memory.copy(at(vc, cache + pos * hs), at(q, 2 * C), <usize>hs << 2)
    const row = at(scores, ((n - scoreRow0) * NH + h) * maxLen)
    const max = scoreRow(row, q, at(kc, cache), hs, hs, pos, scale)
    const sum = expRow(row, pos + 1, max)
    divideRow(row, pos + 1, sum)
    weightedSum(at(out, n * C + h * hs), row, 1, pos + 1, at(vc, cache), hs, hs)
  }
}

/** args: out, qkv, kCache, vCache, N, C, NH, maxLen, pos; parts over sequences (scores in scratch) */
function attentionDecode(part: i32, parts: i32, tmp: usize): void {
  const N = int(4); const NH = int(6); const maxLen = int(7)
  const n0 = lo(N, part, parts); const n1 = lo(N, part + 1, parts)
  // this part's scores in the thread's scratch
  decodeAttention(ptr(0), ptr(1), ptr(2), ptr(3), int(5), NH, maxLen, int(8), n0, n1, tmp, n0)
}

// ---- elementwise ---------------------------------------------------------------------------------
const GELU_SCALE: f32 = 0.7978845608028654 // √(2/π)
const ELEMENTS = 4096

/** out = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); args: out, inp, n; parts over blocks */
function geluForward(part: i32, parts: i32): void {
  const n = int(2)
  const blocks = (n + ELEMENTS - 1) / ELEMENTS
  geluRange(ptr(0), ptr(1), lo(blocks, part, parts) * ELEMENTS, min(n, lo(blocks, part + 1, parts) * ELEMENTS))
}

function geluRange(out: usize, inp: usize, i0: i32, i1: i32): void {
  let i = i0
  for (; i + 4 <= i1; i += 4) v128.store(at(out, i), geluv(v128.load(at(inp, i))))
  if (i < i1) storeTail(out, i, i1, geluv(tail(inp, i, i1)))
}

@inline function geluv(x: v128): v128 {
  const inner = f32x4.mul(splat(GELU_SCALE), f32x4.add(x, f32x4.mul(splat(0.044715), f32x4.mul(x, f32x4.mul(x, x)))))
  return f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.add(splat(1), tanhv(inner)))
}

/** dinp = gelu'(x)·dout; args: dinp, inp, dout, n */
function geluBackward(part: i32, parts: i32): void {
  const d = ptr(0); const inp = ptr(1); const g = ptr(2); const n = int(3)
  const blocks = (n + ELEMENTS - 1) / ELEMENTS
  const i1 = min(n, lo(blocks, part + 1, parts) * ELEMENTS)
  let i = lo(blocks, part, parts) * ELEMENTS
  for (; i + 4 <= i1; i += 4) v128.store(at(d, i), f32x4.mul(geluGrad(v128.load(at(inp, i))), v128.load(at(g, i))))
  if (i < i1) storeTail(d, i, i1, f32x4.mul(geluGrad(tail(inp, i, i1)), tail(g, i, i1)))
}

/** gelu'(x) = ½(1 + tanh u) + ½x·sech²u·√(2/π)·(1 + 3·0.044715·x²), u = √(2/π)(x + 0.044715·x³) */
@inline function geluGrad(x: v128): v128 {
  const x2 = f32x4.mul(x, x)
  const th = tanhv(f32x4.mul(splat(GELU_SCALE), f32x4.add(x, f32x4.mul(splat(0.044715), f32x4.mul(x, x2)))))
  const sech2 = f32x4.sub(splat(1), f32x4.mul(th, th))
  return f32x4.add(f32x4.mul(splat(0.5), f32x4.add(splat(1), th)),
    f32x4.mul(f32x4.mul(f32x4.mul(splat(0.5), x), f32x4.mul(sech2, splat(GELU_SCALE))), f32x4.add(splat(1), f32x4.mul(splat(3 * 0.044715), x2))))
}

/** The last 1–3 elements of an array as a vector (the other lanes 0). */
function tail(p: usize, i: i32, end: i32): v128 {
  let v = splat(0)
  v = f32x4.replace_lane(v, 0, f32at(p, i))
  if (i + 1 < end) v = f32x4.replace_lane(v, 1, f32at(p, i + 1))
  if (i + 2 < end) v = f32x4.replace_lane(v, 2, f32at(p, i + 2))
  return v
}
function storeTail(p: usize, i: i32, end: i32, v: v128): void {
  store<f32>(at(p, i), f32x4.extract_lane(v, 0))
  if (i + 1 < end) store<f32>(at(p, i + 1), f32x4.extract_lane(v, 1))
  if (i + 2 < end) store<f32>(at(p, i + 2), f32x4.extract_lane(v, 2))
}

/** out = a + b; args: out, a, b, n */
function add(part: i32, parts: i32): void {
  const out = ptr(0); const a = ptr(1); const b = ptr(2); const n = int(3)
  const blocks = (n + ELEMENTS - 1) / ELEMENTS
  for (let blk = lo(blocks, part, parts); blk < lo(blocks, part + 1, parts); blk++) {
    const i1 = min(n, (blk + 1) * ELEMENTS)
    let i = blk * ELEMENTS
    for (; i + 4 <= i1; i += 4) v128.store(at(out, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))))
    for (; i < i1; i++) store<f32>(at(out, i), f32at(a, i) + f32at(b, i))
  }
}

// ---- log-probabilities ---------------------------------------------------------------------------
/** Row statistics of z = logits·invT: max, Σ e^(z − max), Σ e^(z − max)·(z − max). */
let rowMax: f32 = 0
let rowSum: f32 = 0
let rowWeighted: f32 = 0
function temperedRow(l: usize, V: i32, invT: f32): void {
  const iv = splat(invT)
  let mv = splat(<f32>-Infinity); let v = 0
  for (; v + 4 <= V; v += 4) mv = f32x4.max(mv, f32x4.mul(v128.load(at(l, v)), iv))
  let max = hmax(mv)
  for (; v < V; v++) max = Mathf.max(max, f32at(l, v) * invT)
  const maxv = splat(max)
  let s = splat(0); let w = splat(0); v = 0
  for (; v + 4 <= V; v += 4) {
    const z = f32x4.sub(f32x4.mul(v128.load(at(l, v)), iv), maxv)
    const e = expv(z)
    s = f32x4.add(s, e); w = f32x4.add(w, f32x4.mul(e, z))
  }
  let sum = hsum(s); let weighted = hsum(w)
  for (; v < V; v++) { const z = f32at(l, v) * invT - max; const e = exps(z); sum += e; weighted += e * z }
  rowMax = max; rowSum = sum; rowWeighted = weighted
}

/** args: logp, entropy, logits, targets, rows, V, invT; parts over rows */
function logprobForward(part: i32, parts: i32): void {
  const lp = ptr(0); const en = ptr(1); const logits = ptr(2); const tg = ptr(3); const rows = int(4); const V = int(5)
  const invT = <f32>arg(6)
  for (let r = lo(rows, part, parts); r < lo(rows, part + 1, parts); r++) {
    const l = at(logits, r * V)
    temperedRow(l, V, invT)
    const logZ = <f32>hostLog(<f64>rowSum)
    store<f32>(at(lp, r), f32at(l, load<u32>(at(tg, r))) * invT - rowMax - logZ)
    store<f32>(at(en, r), logZ - rowWeighted / rowSum)
  }
}

/** dlogits[r, v] = invT·(dlogp·(1[v = target] − p) − dentropy·p·(z − logZ + H));
 *  args: dlogits, logits, targets, dlogp, rows, V, invT, dentropy (0: none) */
function logprobBackward(part: i32, parts: i32): void {
  const dl = ptr(0); const logits = ptr(1); const tg = ptr(2); const dlp = ptr(3); const rows = int(4); const V = int(5)
  const invT = <f32>arg(6); const de = ptr(7)
  for (let r = lo(rows, part, parts); r < lo(rows, part + 1, parts); r++) {
    const l = at(logits, r * V); const d = at(dl, r * V)
    temperedRow(l, V, invT)
    const logZ = <f32>hostLog(<f64>rowSum); const h = logZ - rowWeighted / rowSum
    const gr = f32at(dlp, r); const ge: f32 = de ? f32at(de, r) : 0; const target = <i32>load<u32>(at(tg, r))
    const iv = splat(invT); const maxv = splat(rowMax); const sumv = splat(rowSum); const grv = splat(gr); const gev = splat(ge)
    const shift = splat(h - logZ)
    let v = 0
    for (; v + 4 <= V; v += 4) {
      const z = f32x4.sub(f32x4.mul(v128.load(at(l, v)), iv), maxv)
      const p = f32x4.div(expv(z), sumv)
      const dz = f32x4.sub(f32x4.mul(grv, f32x4.neg(p)), f32x4.mul(f32x4.mul(gev, p), f32x4.add(z, shift)))
      v128.store(at(d, v), f32x4.mul(iv, dz))
    }
    for (; v < V; v++) {
      const z = f32at(l, v) * invT - rowMax
      const p = exps(z) / rowSum
      store<f32>(at(d, v), invT * (gr * -p - ge * p * (z + (h - logZ))))
    }
    // the target's 1[v = target] term, added after: the same sum for every v
    const pt = at(d, target)
    const z = f32at(l, target) * invT - rowMax
    const p = exps(z) / rowSum // what its lane computed
    store<f32>(pt, invT * (gr * (1 - p) - ge * p * (z + (h - logZ))))
  }
}

// ---- embedding -----------------------------------------------------------------------------------
/** out[b, t] = wte[tokens[b, t]] + wpe[t]; args: out, tokens, wte, wpe, B, T, C; parts over rows */
function embeddingForward(part: i32, parts: i32): void {
  const out = ptr(0); const tk = ptr(1); const wte = ptr(2); const wpe = ptr(3); const T = int(5); const C = int(6)
  const rows = int(4) * T
  for (let i = lo(rows, part, parts); i < lo(rows, part + 1, parts); i++) {
    addRows(at(out, i * C), at(wte, <i32>load<u32>(at(tk, i)) * C), at(wpe, (i % T) * C), C)
  }
}

/** out[n] = wte[tokens[n, pos]] + wpe[pos]; args: out, tokens, wte, wpe, N, maxLen, pos, C */
function embeddingAt(part: i32, parts: i32): void {
  const out = ptr(0); const tk = ptr(1); const wte = ptr(2); const wpe = ptr(3); const N = int(4); const maxLen = int(5)
  const pos = int(6); const C = int(7)
  embedAt(out, tk, wte, wpe, maxLen, pos, C, lo(N, part, parts), lo(N, part + 1, parts))
}
function embedAt(out: usize, tk: usize, wte: usize, wpe: usize, maxLen: i32, pos: i32, C: i32, n0: i32, n1: i32): void {
  for (let n = n0; n < n1; n++) addRows(at(out, n * C), at(wte, <i32>load<u32>(at(tk, n * maxLen + pos)) * C), at(wpe, pos * C), C)
}

@inline function addRows(o: usize, a: usize, b: usize, C: i32): void {
  let c = 0
  for (; c + 4 <= C; c += 4) v128.store(at(o, c), f32x4.add(v128.load(at(a, c)), v128.load(at(b, c))))
  for (; c < C; c++) store<f32>(at(o, c), f32at(a, c) + f32at(b, c))
}

/** dwte[v] (+)= Σ_{i: tokens[i] = v} dout[i] over the part's vocabulary range, and dwpe[t] (+)=
 *  Σ_b dout[b, t] over its position range, float64 sums in index order (the twin's).
 *  args: dwte, dwpe, dout, tokens, B, T, C, V, accumulate, wpe rows */
function embeddingBackward(part: i32, parts: i32, tmp: usize): void {
  const dte = ptr(0); const dpe = ptr(1); const g = ptr(2); const tk = ptr(3); const B = int(4); const T = int(5); const C = int(6)
  const V = int(7); const accumulate = int(8) !== 0; const maxT = int(9)
  const v0 = lo(V, part, parts); const v1 = lo(V, part + 1, parts)
  const n = (v1 - v0) * C
  for (let i = 0; i < n; i++) store<f64>(at8(tmp, i), 0)
  for (let i = 0; i < B * T; i++) {
    const id = <i32>load<u32>(at(tk, i))
    if (id < v0 || id >= v1) continue
    const acc = at8(tmp, (id - v0) * C); const gr = at(g, i * C)
    for (let c = 0; c < C; c++) store<f64>(at8(acc, c), load<f64>(at8(acc, c)) + <f64>f32at(gr, c))
  }
  for (let i = 0; i < n; i++) storeSum(dte, v0 * C + i, load<f64>(at8(tmp, i)), accumulate)
  for (let t = lo(maxT, part, parts); t < lo(maxT, part + 1, parts); t++) for (let c = 0; c < C; c++) {
    let s: f64 = 0
    if (t < T) for (let b = 0; b < B; b++) s += <f64>f32at(g, (b * T + t) * C + c)
    storeSum(dpe, t * C + c, s, accumulate)
  }
}

// ---- AdamW ---------------------------------------------------------------------------------------
/** partial[chunk] = Σ g² over each SUMSQ_CHUNK elements (float64); args: partials, grads, n */
function sumsq(part: i32, parts: i32): void {
  const out = ptr(0); const g = ptr(1); const n = int(2)
  const chunks = (n + SUMSQ_CHUNK - 1) / SUMSQ_CHUNK
  for (let ch = lo(chunks, part, parts); ch < lo(chunks, part + 1, parts); ch++) {
    let s: f64 = 0
    for (let i = ch * SUMSQ_CHUNK; i < min(n, (ch + 1) * SUMSQ_CHUNK); i++) { const x = <f64>f32at(g, i); s += x * x }
    store<f64>(at8(out, ch), s)
  }
}

/** The twin's update in float64; args: params, grads, m, v, n, decayEnd, lr, beta1, beta2, eps,
 *  weightDecay, bc1, bc2, clip */
function adamw(part: i32, parts: i32): void {
  const p = ptr(0); const g = ptr(1); const mp = ptr(2); const vp = ptr(3); const n = int(4); const decayEnd = int(5)
  const lr = arg(6); const b1 = arg(7); const b2 = arg(8); const eps = arg(9); const wd = arg(10); const bc1 = arg(11)
  const bc2 = arg(12); const clip = arg(13)
  const blocks = (n + ELEMENTS - 1) / ELEMENTS
  for (let i = lo(blocks, part, parts) * ELEMENTS; i < min(n, lo(blocks, part + 1, parts) * ELEMENTS); i++) {
    const gi = <f64>f32at(g, i) * clip
    const mi = b1 * <f64>f32at(mp, i) + (1 - b1) * gi
    const vi = b2 * <f64>f32at(vp, i) + (1 - b2) * gi * gi
    store<f32>(at(mp, i), <f32>mi); store<f32>(at(vp, i), <f32>vi)
    const pi = <f64>f32at(p, i)
    const decay = i < decayEnd ? wd * pi : 0
    store<f32>(at(p, i), <f32>(pi - lr * ((mi / bc1) / (Math.sqrt(vi / bc2) + eps) + decay)))
  }
}

// ---- decoding ------------------------------------------------------------------------------------
/** lowbias32, as src/engine/rng.ts */
@inline function hash32(x: u32): u32 {
  x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
  return x
}
function uniform(seed: u32, stream: u32, a: u32, b: u32): f64 {
  let h = hash32(seed ^ 0x9e3779b9)
  h = hash32(h ^ stream)
  h = hash32(h + a * 0x85ebca6b)
  h = hash32(h ^ (b * 0xc2b2ae35))
  return <f64>(h >> 8) / 16777216.0
}

/** sampleRow of cpuBackend.ts, float for float (f32 arithmetic, the host's exp). */
function sampleRow(l: usize, V: i32, temperature: f64, topK: i32, u: f64): i32 {
  let max = <f32>-Infinity; let argmax = 0
  for (let v = 0; v < V; v++) if (f32at(l, v) > max) { max = f32at(l, v); argmax = v }
  if (temperature <= 0) return argmax
  const invT = <f32>(1 / temperature)
  let total: f32 = 0
  for (let v = 0; v < V; v++) if (kept(l, V, topK, v)) total += <f32>hostExp(<f64>((f32at(l, v) - max) * invT))
  const target = <f32>(u * <f64>total)
  let cum: f32 = 0; let last = argmax
  for (let v = 0; v < V; v++) {
    if (!kept(l, V, topK, v)) continue
    cum += <f32>hostExp(<f64>((f32at(l, v) - max) * invT))
    last = v
    if (target < cum) return v
  }
  return last
}
function kept(l: usize, V: i32, topK: i32, v: i32): bool {
  if (topK <= 0 || topK >= V) return true
  let greater = 0
  const x = f32at(l, v)
  for (let w = 0; w < V; w++) if (f32at(l, w) > x) greater++
  return greater < topK
}

/** Positions [posBegin, posEnd) of sequences [n0, n1): the decodePositions twin (embedding; per
 *  layer LN → qkv → attention with the cache → projection + residual → LN → MLP + residual; final
 *  LN; LM head; sampling). Weights are packed [K, roundUp(N, 8)] by the host (pack).
 *  args: tokens, params, packed, packOffsets (u32: per layer qkv, proj, fc, fcproj; then lm_head),
 *  kCache, vCache, scratch, promptLens, done, N, V, C, NH, L, maxLen, posBegin, posEnd, maxNew,
 *  temperature, topK, eosId, seed, stream, paramOffsets (u32) */
function decode(part: i32, parts: i32, tmp: usize): void {
  const tokens = ptr(0); const params = ptr(1); const packed = ptr(2); const packOff = ptr(3)
  const kCache = ptr(4); const vCache = ptr(5); const scratch = ptr(6); const promptLens = ptr(7); const done = ptr(8)
  const N = int(9); const V = int(10); const C = int(11); const NH = int(12); const L = int(13); const maxLen = int(14)
  const posBegin = int(15); const posEnd = int(16); const maxNew = int(17); const temperature = arg(18); const topK = int(19)
  const eosId = int(20); const seed = <u32><i64>arg(21); const stream = <u32><i64>arg(22); const offs = ptr(23)
  // parts over groups of TILE_M sequences: no part computes a tile's clamped rows but the last
  const groups = (N + TILE_M - 1) / TILE_M
  const n0 = min(N, lo(groups, part, parts) * TILE_M); const n1 = min(N, lo(groups, part + 1, parts) * TILE_M)
  if (n0 >= n1) return
  const tileTmp = tmp
  // decodeScratchLayout
  const x = scratch; const ln = at(scratch, N * C); const qkv = at(scratch, 2 * N * C); const atty = at(scratch, 5 * N * C)
  const res = at(scratch, 6 * N * C); const fch = at(scratch, 7 * N * C); const logits = at(scratch, 11 * N * C)
  const scores = at(logits, N * V); const mean = at(scores, N * NH * maxLen); const rstd = at(mean, N)
  const pad3 = (3 * C + 7) & ~7; const pad1 = (C + 7) & ~7; const pad4 = (4 * C + 7) & ~7; const padV = (V + 7) & ~7
  const rows = n1 - n0
  const tm1 = (rows + TILE_M - 1) / TILE_M
  for (let pos = posBegin; pos < posEnd; pos++) {
    embedAt(x, tokens, param(params, offs, 0), param(params, offs, 1), maxLen, pos, C, n0, n1)
    for (let l = 0; l < L; l++) {
      const o = 5 + l * 12
      const kc = at(kCache, l * N * C * maxLen); const vc = at(vCache, l * N * C * maxLen)
      const pk = at(packed, <i32>load<u32>(at(packOff, l * 4)))
      layernormRows(ln, mean, rstd, x, param(params, offs, o), param(params, offs, o + 1), C, n0, n1)
      mmRange(at(qkv, n0 * 3 * C), 3 * C, at(ln, n0 * C), C, 1, rows, pk, pad3, 3 * C, C,
        param(params, offs, o + 3), false, 0, tm1, 0, (3 * C + 7) >> 3, tileTmp)
      decodeAttention(atty, qkv, kc, vc, C, NH, maxLen, pos, n0, n1, scores, 0)
      // res = x + (atty·Wᵀ + b)
      memory.copy(at(res, n0 * C), at(x, n0 * C), <usize>(rows * C) << 2)
      mmRange(at(res, n0 * C), C, at(atty, n0 * C), C, 1, rows, at(packed, <i32>load<u32>(at(packOff, l * 4 + 1))), pad1, C, C,
        param(params, offs, o + 5), true, 0, tm1, 0, (C + 7) >> 3, tileTmp)
      layernormRows(ln, mean, rstd, res, param(params, offs, o + 6), param(params, offs, o + 7), C, n0, n1)
      mmRange(at(fch, n0 * 4 * C), 4 * C, at(ln, n0 * C), C, 1, rows, at(packed, <i32>load<u32>(at(packOff, l * 4 + 2))), pad4, 4 * C, C,
        param(params, offs, o + 9), false, 0, tm1, 0, (4 * C + 7) >> 3, tileTmp)
      geluRange(fch, fch, n0 * 4 * C, n1 * 4 * C)
      // x = res + (gelu·Wᵀ + b)
      memory.copy(at(x, n0 * C), at(res, n0 * C), <usize>(rows * C) << 2)
      mmRange(at(x, n0 * C), C, at(fch, n0 * 4 * C), 4 * C, 1, rows, at(packed, <i32>load<u32>(at(packOff, l * 4 + 3))), pad1, C, 4 * C,
        param(params, offs, o + 11), true, 0, tm1, 0, (C + 7) >> 3, tileTmp)
    }
    layernormRows(ln, mean, rstd, x, param(params, offs, 2), param(params, offs, 3), C, n0, n1)
    mmRange(at(logits, n0 * V), V, at(ln, n0 * C), C, 1, rows, at(packed, <i32>load<u32>(at(packOff, L * 4))), padV, V, C,
      0, false, 0, tm1, 0, (V + 7) >> 3, tileTmp)
    for (let n = n0; n < n1; n++) {
      const next = pos + 1
      const plen = <i32>load<u32>(at(promptLens, n))
      if (next >= maxLen || next < plen) continue // prompt tokens stay as they are
      const slot = at(tokens, n * maxLen + next)
      if (load<u32>(at(done, n)) !== 0 || next >= plen + maxNew) { store<u32>(slot, <u32>eosId); continue }
      const id = sampleRow(at(logits, n * V), V, temperature, topK, uniform(seed, stream, <u32>next, <u32>n))
      store<u32>(slot, <u32>id)
      if (id === eosId) store<u32>(at(done, n), 1)
    }
  }
}
@inline function param(params: usize, offs: usize, i: i32): usize { return at(params, <i32>load<u32>(at(offs, i))) }

/** Zero `bytes` at `at` (the host's TypedArray.fill is slow on a shared memory). */
export function zero(at: usize, bytes: usize): void { memory.fill(at, 0, bytes) }

/** The end of this module's static data: the host allocates above it. */
export function heapBase(): usize { return __heap_base }
