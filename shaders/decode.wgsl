// KV-cache decoding, fused: one workgroup per sequence runs positions [pos_begin, pos_end) —
// embedding, every layer (LN, qkv, attention over the cache, projection, LN, GELU MLP, residuals),
// the final LN, the LM head and sampling — so a whole rollout is one dispatch instead of
// 4 + 10·n_layer per position. Sequences are independent, so no workgroup waits for another;
// inside a workgroup the phases are separated by barriers, and every phase is spread over the
// workgroup's invocations: rows of the matmuls, channels, (head, key) pairs, and the reductions
// (layernorm sums, softmax max and sum, the sampler's peak and top-k floor) as per-lane
// partials combined in a fixed lane order, so a run is bit-identical to the next. The matmul and
// attention sums run in the order of the unfused kernels, which the CPU twin composes; the
// reductions differ from its sequential order by rounding only. The one serial phase left is the
// inverse-CDF draw (O(V), by one invocation, in index order like the CPU's sampler).
// Workgroup storage: 2 × 64 vec4 and one flag (2 KiB), whatever the model.
#include "common.wgsl"
#include "rng.wgsl"
#include "sampling.wgsl"

struct Params {
  N: u32, V: u32, C: u32, NH: u32,
  L: u32, max_len: u32, pos_begin: u32, pos_end: u32,
  max_new: u32, top_k: u32, eos: u32, seed: u32,
  stream: u32, temperature: f32,
}

@group(0) @binding(0) var<storage, read_write> tokens: array<u32>;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<f32>;
@group(0) @binding(5) var<storage, read_write> act: array<f32>;
@group(0) @binding(6) var<storage, read> prompt_lens: array<u32>;
@group(0) @binding(7) var<storage, read_write> done: array<u32>;
@group(0) @binding(8) var<uniform> p: Params;

const DECODE_GELU_SCALE: f32 = 0.7978845608028654; // sqrt(2 / pi)
const DECODE_LN_EPS: f32 = 1e-5;
const GLOBAL_PARAMS: u32 = 5u; // wte, wpe, ln_f.weight, ln_f.bias, lm_head.weight
const LAYER_PARAMS: u32 = 12u;

// where each activation block starts in `act` (decodeScratchLayout in src/engine/backend.ts)
struct ActLayout { x: u32, ln: u32, qkv: u32, atty: u32, res: u32, fch: u32, logits: u32, scores: u32, mean: u32, rstd: u32 }

fn act_layout() -> ActLayout {
  let NC = p.N * p.C;
  let logits = 11u * NC;
  let scores = logits + p.N * p.V;
  let mean = scores + p.N * p.NH * p.max_len;
  return ActLayout(0u, NC, 2u * NC, 5u * NC, 6u * NC, 7u * NC, logits, scores, mean, mean + p.N);
}

fn gelu(v: f32) -> f32 { return 0.5 * v * (1.0 + tanh(DECODE_GELU_SCALE * (v + 0.044715 * v * v * v))); }

// out[j] = Σ_k inp[k] · W[j, k] (+ bias[j]), then GELU'd if asked (as elementwise.wgsl's, on the
// stored float), rows j strided over the workgroup
fn linear(out_off: u32, in_off: u32, w: u32, bias: u32, use_bias: bool, K: u32, rows: u32, lid: u32, then_gelu: bool) {
  for (var j = lid; j < rows; j = j + WG) {
    var acc = 0.0;
    for (var k = 0u; k < K; k = k + 1u) { acc = acc + act[in_off + k] * params[w + j * K + k]; }
    if (use_bias) { acc = acc + params[bias + j]; }
    if (then_gelu) { acc = gelu(acc); }
    act[out_off + j] = acc;
  }
}

// Reductions over the workgroup. Each writes its lanes' partials, waits, folds them in a fixed
// lane order (8 lanes fold 8 partials each, then every lane folds those 8; or one lane per segment)
// and waits again, so that the next reduction may reuse the arrays at once. Every lane ends with
// the same value.
var<workgroup> partial: array<vec4<f32>, 64>;
var<workgroup> combined: array<vec4<f32>, 64>;

/** Σ of every lane's v (a pair of sums at once). */
fn workgroup_sum2(v: vec2<f32>, lid: u32) -> vec2<f32> {
  partial[lid] = vec4<f32>(v, 0.0, 0.0);
  workgroupBarrier();
  if (lid < 8u) {
    var m = partial[lid * 8u].xy;
    for (var k = 1u; k < 8u; k = k + 1u) { m = m + partial[lid * 8u + k].xy; }
    combined[lid] = vec4<f32>(m, 0.0, 0.0);
  }
  workgroupBarrier();
  var m = combined[0].xy;
  for (var k = 1u; k < 8u; k = k + 1u) { m = m + combined[k].xy; }
  return m;
}

/** The sampler's row statistics of two shares together: (peak value, peak index, smallest kept
 *  logit); the higher peak, the lower index on ties, the lower floor — exact in any order. */
fn join_row(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  let peak = higher_peak(Peak(a.x, u32(a.y)), Peak(b.x, u32(b.y))); // indices < V ≤ 4096: exact as f32
  return vec4<f32>(peak.value, f32(peak.index), min(a.z, b.z), 0.0);
}

/** The row's peak and smallest kept logit from every lane's share, in one reduction. */
fn workgroup_row(v: vec4<f32>, lid: u32) -> vec4<f32> {
  partial[lid] = v;
  workgroupBarrier();
  if (lid < 8u) {
    var m = partial[lid * 8u];
    for (var k = 1u; k < 8u; k = k + 1u) { m = join_row(m, partial[lid * 8u + k]); }
    combined[lid] = m;
  }
  workgroupBarrier();
  var m = combined[0];
  for (var k = 1u; k < 8u; k = k + 1u) { m = join_row(m, combined[k]); }
  return m;
}

/** A softmax's running (max m, Σ exp(s − m)) with one more score s. */
fn softmax_step(a: vec2<f32>, s: f32) -> vec2<f32> {
  if (s > a.x) { return vec2<f32>(s, a.y * exp(a.x - s) + 1.0); }
  return vec2<f32>(a.x, a.y + exp(s - a.x));
}

/** Two disjoint sets' (max, Σ exp(s − max)) together. */
fn join_softmax(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

/** (max, Σ exp(s − max)) over each segment of `seg` lanes (a power of two), in lane order. */
fn segment_softmax(v: vec2<f32>, lid: u32, seg: u32) -> vec2<f32> {
  partial[lid] = vec4<f32>(v, 0.0, 0.0);
  workgroupBarrier();
  if (lid % seg == 0u) {
    var a = partial[lid].xy;
    for (var k = 1u; k < seg; k = k + 1u) { a = join_softmax(a, partial[lid + k].xy); }
    combined[lid / seg] = vec4<f32>(a, 0.0, 0.0);
  }
  workgroupBarrier();
  return combined[lid / seg].xy;
}

// the statistics in one reduction: Σ (x − x₀) and Σ (x − x₀)² over each lane's channels, x₀ the
// row's first channel (shifted sums: the variance keeps its digits unless one channel sits many
// deviations from the mean); then every invocation normalises its channels
fn layernorm(n: u32, out_off: u32, in_off: u32, w: u32, b: u32, lid: u32) {
  let s = act_layout();
  let C = p.C;
  let x0 = act[in_off];
  var sums = vec2<f32>(0.0);
  for (var c = lid; c < C; c = c + WG) { let d = act[in_off + c] - x0; sums = sums + vec2<f32>(d, d * d); }
  sums = workgroup_sum2(sums, lid);
  let shift = sums.x / f32(C);
  let m = x0 + shift;
  let r = 1.0 / sqrt(max(sums.y / f32(C) - shift * shift, 0.0) + DECODE_LN_EPS);
  if (lid == 0u) {
    act[s.mean + n] = m;
    act[s.rstd + n] = r;
  }
  for (var c = lid; c < C; c = c + WG) {
    act[out_off + c] = (act[in_off + c] - m) * r * params[w + c] + params[b + c];
  }
  storageBarrier();
}

fn logit(i: u32) -> f32 { return act[i]; }

// What sample_next does at a position, decided by one invocation and shared through workgroupUniformLoad
const SAMPLE_NOTHING: u32 = 0u; // a prompt position, or past the end of the matrix
const SAMPLE_EOS: u32 = 1u;     // the sequence has ended, or has its max_new tokens: the end token
const SAMPLE_DRAW: u32 = 2u;
var<workgroup> sample_mode: u32;

// sample.wgsl's rule for sequence n after position pos; the row's peak and top-k floor by the
// whole workgroup, the draw by invocation 0
fn sample_next(n: u32, pos: u32, lid: u32) {
  let next = pos + 1u;
  let slot = n * p.max_len + next;
  if (lid == 0u) {
    let plen = prompt_lens[n];
    var mode = SAMPLE_DRAW;
    if (next >= p.max_len || next < plen) { mode = SAMPLE_NOTHING; }
    else if (done[n] != 0u || next >= plen + p.max_new) { mode = SAMPLE_EOS; }
    sample_mode = mode;
  }
  let mode = workgroupUniformLoad(&sample_mode);
  if (mode == SAMPLE_NOTHING) { return; }
  if (mode == SAMPLE_EOS) {
    if (lid == 0u) { tokens[slot] = p.eos; }
    return;
  }
  let base = act_layout().logits + n * p.V;
  let mine = peak_part(base, lid, WG);
  var floor_part = -3.0e38;
  if (top_k_active()) { floor_part = kept_floor_part(base, lid, WG); }
  let row = workgroup_row(vec4<f32>(mine.value, f32(mine.index), floor_part, 0.0), lid);
  if (lid == 0u) {
    let id = sample_from(base, next, n, Peak(row.x, u32(row.y)), row.z);
    tokens[slot] = id;
    if (id == p.eos) { done[n] = 1u; }
  }
}

/** Invocations per head in the softmax: the largest power of two with NH of them in the workgroup. */
fn head_lanes() -> u32 {
  var seg = WG;
  while (seg > 1u && seg * p.NH > WG) { seg = seg / 2u; }
  return seg;
}

// attention of position pos over the cache 0..pos, as attention.wgsl's decode entry computes it
fn attend(n: u32, l: u32, pos: u32, lid: u32) {
  let s = act_layout();
  let C = p.C;
  let NH = p.NH;
  let hs = C / NH;
  let scale = 1.0 / sqrt(f32(hs));
  let q = s.qkv + n * 3u * C;
  let layer_cache = (l * p.N + n) * NH * p.max_len * hs;
  // this position's k and v into the cache, for the positions after it; this position reads them
  // from qkv itself, so no barrier is needed between the two
  for (var e = lid; e < C; e = e + WG) {
    let h = e / hs;
    let cache = layer_cache + h * p.max_len * hs + pos * hs + e % hs;
    k_cache[cache] = act[q + C + e];
    v_cache[cache] = act[q + 2u * C + e];
  }
  let span = pos + 1u;
  let scores = s.scores + n * NH * p.max_len;
  for (var e = lid; e < NH * span; e = e + WG) {
    let h = e / span;
    let t2 = e % span;
    let kb = layer_cache + h * p.max_len * hs + t2 * hs;
    var dot = 0.0;
    if (t2 == pos) {
      for (var i = 0u; i < hs; i = i + 1u) { dot = dot + act[q + h * hs + i] * act[q + C + h * hs + i]; }
    } else {
      for (var i = 0u; i < hs; i = i + 1u) { dot = dot + act[q + h * hs + i] * k_cache[kb + i]; }
    }
    act[scores + h * p.max_len + t2] = dot * scale;
  }
  storageBarrier();
  // softmax of each head's scores: `seg` invocations per head, heads in rounds of WG / seg
  let seg = head_lanes();
  for (var h0 = 0u; h0 < NH; h0 = h0 + WG / seg) {
    let h = h0 + lid / seg;
    let live = h < NH;
    let row = scores + h * p.max_len;
    var a = vec2<f32>(-3.0e38, 0.0);
    if (live) { for (var t2 = lid % seg; t2 < span; t2 = t2 + seg) { a = softmax_step(a, act[row + t2]); } }
    a = segment_softmax(a, lid, seg);
    if (live) { for (var t2 = lid % seg; t2 < span; t2 = t2 + seg) { act[row + t2] = exp(act[row + t2] - a.x) / a.y; } }
  }
  storageBarrier();
  for (var e = lid; e < C; e = e + WG) {
    let h = e / hs;
    let row = scores + h * p.max_len;
    let vb = layer_cache + h * p.max_len * hs + e % hs;
    var acc = 0.0;
    for (var t2 = 0u; t2 < pos; t2 = t2 + 1u) { acc = acc + act[row + t2] * v_cache[vb + t2 * hs]; }
    acc = acc + act[row + pos] * act[q + 2u * C + e];
    act[s.atty + n * C + e] = acc;
  }
  storageBarrier();
}

@compute @workgroup_size(64)
fn decode(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x; // launched with exactly N workgroups
  let s = act_layout();
  let C = p.C;
  let x = s.x + n * C;
  let ln = s.ln + n * C;
  let res = s.res + n * C;
  let fch = s.fch + n * 4u * C;
  for (var pos = p.pos_begin; pos < p.pos_end; pos = pos + 1u) {
    let tok = tokens[n * p.max_len + pos];
    for (var c = lid; c < C; c = c + WG) {
      act[x + c] = params[offsets[0] + tok * C + c] + params[offsets[1] + pos * C + c];
    }
    storageBarrier();
    for (var l = 0u; l < p.L; l = l + 1u) {
      let o = GLOBAL_PARAMS + l * LAYER_PARAMS;
      layernorm(n, ln, x, offsets[o], offsets[o + 1u], lid);
      linear(s.qkv + n * 3u * C, ln, offsets[o + 2u], offsets[o + 3u], true, C, 3u * C, lid, false);
      storageBarrier();
      attend(n, l, pos, lid);
      // res = x + (atty · Wᵀ + b)
      for (var j = lid; j < C; j = j + WG) {
        var acc = 0.0;
        for (var k = 0u; k < C; k = k + 1u) { acc = acc + act[s.atty + n * C + k] * params[offsets[o + 4u] + j * C + k]; }
        act[res + j] = act[x + j] + (acc + params[offsets[o + 5u] + j]);
      }
      storageBarrier();
      layernorm(n, ln, res, offsets[o + 6u], offsets[o + 7u], lid);
      linear(fch, ln, offsets[o + 8u], offsets[o + 9u], true, C, 4u * C, lid, true);
      storageBarrier();
      // x = res + (gelu · Wᵀ + b)
      for (var j = lid; j < C; j = j + WG) {
        var acc = 0.0;
        for (var k = 0u; k < 4u * C; k = k + 1u) { acc = acc + act[fch + k] * params[offsets[o + 10u] + j * 4u * C + k]; }
        act[x + j] = act[res + j] + (acc + params[offsets[o + 11u] + j]);
      }
      storageBarrier();
    }
    layernorm(n, ln, x, offsets[2], offsets[3], lid);
    linear(s.logits + n * p.V, ln, offsets[4], 0u, false, C, p.V, lid, false);
    storageBarrier();
    sample_next(n, pos, lid);
    storageBarrier();
  }
}
