// Causal multi-head self-attention. qkv is [B, T, 3C]: q in [0, C), k in [C, 2C), v in [2C, 3C);
// head h owns channels [h·hs, (h+1)·hs). att [B, NH, T, T] keeps the softmax probabilities.
// Backward is two gathers (no atomics): per query row for dq, per key row for dk and dv.
// Workgroup storage: 2 × 64 floats (512 bytes), whatever the shape.
#include "common.wgsl"

struct Params { B: u32, T: u32, C: u32, NH: u32, pos: u32, max_len: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // forward: out | backward: dqkv
@group(0) @binding(1) var<storage, read_write> att: array<f32>;   // forward: att | backward: datt
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read> probs: array<f32>;       // backward: att from forward
@group(0) @binding(5) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(6) var<storage, read_write> v_cache: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
// the same buffers as qkv and dout, read four floats at a time when the head size allows
@group(0) @binding(8) var<storage, read> qkv4: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> dout4: array<vec4<f32>>;

// Training kernels: one workgroup per (b, h, block of ROWS rows: queries, or keys for
// backward_key_value), LANES invocations per row. A row's lanes split its keys (j, j + LANES, …)
// for scores and softmax statistics, combined through workgroup memory in lane order, and split
// the head's dims for the weighted sums over keys, each a plain loop in key order. No atomics:
// every output element has one writer and every sum a fixed order, so runs are bit-identical.
// When the head size is a multiple of 4, rows are read as vec4 (a quarter of the loads; a lane's
// dims come four at a time); otherwise one float at a time.
const ROWS: u32 = 16u;
const LANES: u32 = 4u; // ROWS · LANES = WG

var<workgroup> lane_max: array<f32, 64>;
var<workgroup> lane_sum: array<f32, 64>;

// The row this invocation works on: (b, h) and its position t within the sequence.
struct Row { b: u32, h: u32, t: u32, lane: u32, first_lane: u32, live: bool }

fn blocks_per_head() -> u32 { return (p.T + ROWS - 1u) / ROWS; }

/** Workgroups of a training kernel: B · NH · ⌈T / ROWS⌉ (the grid may wrap into y; the rest return). */
fn attention_groups() -> u32 { return p.B * p.NH * blocks_per_head(); }

fn row_of(g: u32, lid: u32) -> Row {
  let blocks = blocks_per_head();
  let t = (g % blocks) * ROWS + lid / LANES;
  let lane = lid % LANES;
  return Row((g / blocks) / p.NH, (g / blocks) % p.NH, t, lane, lid - lane, t < p.T);
}

/** Σ over the row's lanes of `lane_sum`, in lane order: the same value in every lane of the row. */
fn row_total(r: Row) -> f32 {
  var total = 0.0;
  for (var k = 0u; k < LANES; k = k + 1u) { total = total + lane_sum[r.first_lane + k]; }
  return total;
}

fn head_size() -> u32 { return p.C / p.NH; }

/** Head rows start on a vec4 (C and hs multiples of 4). */
fn by_vec4() -> bool { return head_size() % 4u == 0u; }

/** The first dim of this lane's weighted sums, and the step to its next: 4 dims at a time with vec4. */
fn first_dim(r: Row) -> u32 { return select(r.lane, 4u * r.lane, by_vec4()); }
fn dim_step() -> u32 { return select(LANES, 4u * LANES, by_vec4()); }

/** qkv[a .. a + hs) · qkv[b .. b + hs) */
fn dot_qkv(a: u32, b: u32) -> f32 {
  let hs = head_size();
  if (by_vec4()) {
    var d = vec4<f32>(0.0);
    for (var i = 0u; i < hs; i = i + 4u) { d = d + qkv4[(a + i) / 4u] * qkv4[(b + i) / 4u]; }
    return (d.x + d.y) + (d.z + d.w);
  }
  var d = 0.0;
  for (var i = 0u; i < hs; i = i + 1u) { d = d + qkv[a + i] * qkv[b + i]; }
  return d;
}

/** dout[g .. g + hs) · qkv[b .. b + hs) */
fn dot_dout_qkv(g: u32, b: u32) -> f32 {
  let hs = head_size();
  if (by_vec4()) {
    var d = vec4<f32>(0.0);
    for (var i = 0u; i < hs; i = i + 4u) { d = d + dout4[(g + i) / 4u] * qkv4[(b + i) / 4u]; }
    return (d.x + d.y) + (d.z + d.w);
  }
  var d = 0.0;
  for (var i = 0u; i < hs; i = i + 1u) { d = d + dout[g + i] * qkv[b + i]; }
  return d;
}

/** out[o + i …] = Σ_{t2 ≤ t} w[row + t2] · qkv[(b·T + t2)·3C + base + i …] for this lane's dims i
 *  (w is att: the probabilities in forward, datt in backward_query) */
fn weighted_rows(r: Row, row: u32, base: u32, o: u32) {
  let C3 = 3u * p.C;
  for (var i = first_dim(r); i < head_size(); i = i + dim_step()) {
    if (by_vec4()) {
      var acc = vec4<f32>(0.0);
      for (var t2 = 0u; t2 <= r.t; t2 = t2 + 1u) { acc = acc + att[row + t2] * qkv4[((r.b * p.T + t2) * C3 + base + i) / 4u]; }
      out[o + i] = acc.x; out[o + i + 1u] = acc.y; out[o + i + 2u] = acc.z; out[o + i + 3u] = acc.w;
    } else {
      var acc = 0.0;
      for (var t2 = 0u; t2 <= r.t; t2 = t2 + 1u) { acc = acc + att[row + t2] * qkv[(r.b * p.T + t2) * C3 + base + i]; }
      out[o + i] = acc;
    }
  }
}

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= attention_groups()) { return; } // uniform: the whole workgroup leaves
  let r = row_of(g, lid);
  let t = r.t;
  let hs = head_size();
  let C3 = 3u * p.C;
  let scale = 1.0 / sqrt(f32(hs));
  let qb = (r.b * p.T + t) * C3 + r.h * hs;
  let row = ((r.b * p.NH + r.h) * p.T + t) * p.T;
  // this lane's scores, and their max
  var mx = -3.0e38;
  if (r.live) {
    for (var t2 = r.lane; t2 <= t; t2 = t2 + LANES) {
      let s = dot_qkv(qb, (r.b * p.T + t2) * C3 + p.C + r.h * hs) * scale;
      att[row + t2] = s;
      mx = max(mx, s);
    }
  }
  lane_max[lid] = mx;
  workgroupBarrier();
  for (var k = 0u; k < LANES; k = k + 1u) { mx = max(mx, lane_max[r.first_lane + k]); }
  // this lane's exponentials (over its own scores: no barrier needed), then the row's sum
  var sum = 0.0;
  if (r.live) {
    for (var t2 = r.lane; t2 <= t; t2 = t2 + LANES) {
      let e = exp(att[row + t2] - mx);
      att[row + t2] = e;
      sum = sum + e;
    }
  }
  lane_sum[lid] = sum;
  workgroupBarrier();
  let total = row_total(r);
  if (r.live) {
    for (var t2 = r.lane; t2 < p.T; t2 = t2 + LANES) {
      if (t2 <= t) { att[row + t2] = att[row + t2] / total; } else { att[row + t2] = 0.0; }
    }
  }
  storageBarrier(); // the row's probabilities, written by all its lanes
  if (r.live) { weighted_rows(r, row, 2u * p.C + r.h * hs, (r.b * p.T + t) * p.C + r.h * hs); }
}

// datt row = pre-softmax gradient (scaled), then dq; a workgroup per block of query rows
@compute @workgroup_size(64)
fn backward_query(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= attention_groups()) { return; }
  let r = row_of(g, lid);
  let t = r.t;
  let hs = head_size();
  let C3 = 3u * p.C;
  let scale = 1.0 / sqrt(f32(hs));
  let row = ((r.b * p.NH + r.h) * p.T + t) * p.T;
  let gb = (r.b * p.T + t) * p.C + r.h * hs;
  // dp = dout_t · v_t2 for this lane's keys, and its share of Σ probs · dp
  var s = 0.0;
  if (r.live) {
    for (var t2 = r.lane; t2 <= t; t2 = t2 + LANES) {
      let dot = dot_dout_qkv(gb, (r.b * p.T + t2) * C3 + 2u * p.C + r.h * hs);
      att[row + t2] = dot;
      s = s + probs[row + t2] * dot;
    }
  }
  lane_sum[lid] = s;
  workgroupBarrier();
  let total = row_total(r);
  if (r.live) {
    for (var t2 = r.lane; t2 < p.T; t2 = t2 + LANES) {
      if (t2 <= t) { att[row + t2] = probs[row + t2] * (att[row + t2] - total) * scale; } else { att[row + t2] = 0.0; }
    }
  }
  storageBarrier(); // the row's datt, written by all its lanes
  if (r.live) { weighted_rows(r, row, p.C + r.h * hs, (r.b * p.T + t) * C3 + r.h * hs); }
}

// dk and dv of a block of key rows t2, gathered over the queries t ≥ t2 in order; lanes split the dims
@compute @workgroup_size(64)
fn backward_key_value(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= attention_groups()) { return; }
  let r = row_of(g, lid);
  if (!r.live) { return; } // no barrier below
  let t2 = r.t;
  let hs = head_size();
  let C3 = 3u * p.C;
  let head_rows = (r.b * p.NH + r.h) * p.T;
  let dkb = (r.b * p.T + t2) * C3 + p.C + r.h * hs;
  let dvb = dkb + p.C;
  for (var i = first_dim(r); i < hs; i = i + dim_step()) {
    if (by_vec4()) {
      var dk = vec4<f32>(0.0);
      var dv = vec4<f32>(0.0);
      for (var t = t2; t < p.T; t = t + 1u) {
        let row = (head_rows + t) * p.T;
        dk = dk + att[row + t2] * qkv4[((r.b * p.T + t) * C3 + r.h * hs + i) / 4u];
        dv = dv + probs[row + t2] * dout4[((r.b * p.T + t) * p.C + r.h * hs + i) / 4u];
      }
      out[dkb + i] = dk.x; out[dkb + i + 1u] = dk.y; out[dkb + i + 2u] = dk.z; out[dkb + i + 3u] = dk.w;
      out[dvb + i] = dv.x; out[dvb + i + 1u] = dv.y; out[dvb + i + 2u] = dv.z; out[dvb + i + 3u] = dv.w;
    } else {
      var dk = 0.0;
      var dv = 0.0;
      for (var t = t2; t < p.T; t = t + 1u) {
        let row = (head_rows + t) * p.T;
        dk = dk + att[row + t2] * qkv[(r.b * p.T + t) * C3 + r.h * hs + i];
        dv = dv + probs[row + t2] * dout[(r.b * p.T + t) * p.C + r.h * hs + i];
      }
      out[dkb + i] = dk;
      out[dvb + i] = dv;
    }
  }
}

// Decoding: one invocation per (n, h). qkv is [N, 3C] for position pos; caches are
// [N, NH, max_len, hs]. Stores this position's k, v, then attends over 0..pos.
@compute @workgroup_size(64)
fn decode(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= p.B * p.NH) { return; }   // B = N here
  let h = idx % p.NH;
  let n = idx / p.NH;
  let hs = p.C / p.NH;
  let scale = 1.0 / sqrt(f32(hs));
  let cache = idx * p.max_len * hs;    // ((n * NH + h) * max_len) * hs
  let qb = n * 3u * p.C + h * hs;
  for (var i = 0u; i < hs; i = i + 1u) {
    k_cache[cache + p.pos * hs + i] = qkv[qb + p.C + i];
    v_cache[cache + p.pos * hs + i] = qkv[qb + 2u * p.C + i];
  }
  var mx = -3.0e38;
  for (var t2 = 0u; t2 <= p.pos; t2 = t2 + 1u) {
    var dot = 0.0;
    for (var i = 0u; i < hs; i = i + 1u) { dot = dot + qkv[qb + i] * k_cache[cache + t2 * hs + i]; }
    mx = max(mx, dot * scale);
  }
  var sum = 0.0;
  for (var t2 = 0u; t2 <= p.pos; t2 = t2 + 1u) {
    var dot = 0.0;
    for (var i = 0u; i < hs; i = i + 1u) { dot = dot + qkv[qb + i] * k_cache[cache + t2 * hs + i]; }
    sum = sum + exp(dot * scale - mx);
  }
  let ob = n * p.C + h * hs;
  for (var i = 0u; i < hs; i = i + 1u) { out[ob + i] = 0.0; }
  for (var t2 = 0u; t2 <= p.pos; t2 = t2 + 1u) {
    var dot = 0.0;
    for (var i = 0u; i < hs; i = i + 1u) { dot = dot + qkv[qb + i] * k_cache[cache + t2 * hs + i]; }
    let w = exp(dot * scale - mx) / sum;
    for (var i = 0u; i < hs; i = i + 1u) { out[ob + i] = out[ob + i] + w * v_cache[cache + t2 * hs + i]; }
  }
}
