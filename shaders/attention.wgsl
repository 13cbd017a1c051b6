// Causal multi-head self-attention. qkv is [B, T, 3C]: q in [0, C), k in [C, 2C), v in [2C, 3C);
// head h owns channels [h·hs, (h+1)·hs). att [B, NH, T, T] keeps the softmax probabilities.
// Backward is two gathers (no atomics): per query row for dq, per key row for dk and dv.
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

// one invocation per (b, h, t)
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= p.B * p.NH * p.T) { return; }
  let t = idx % p.T;
  let h = (idx / p.T) % p.NH;
  let b = idx / (p.T * p.NH);
  let hs = p.C / p.NH;
  let C3 = 3u * p.C;
  let scale = 1.0 / sqrt(f32(hs));
  let qb = (b * p.T + t) * C3 + h * hs;
  let row = idx * p.T; // ((b * NH + h) * T + t) * T
  var mx = -3.0e38;
  for (var t2 = 0u; t2 <= t; t2 = t2 + 1u) {
    let kb = (b * p.T + t2) * C3 + p.C + h * hs;
    var dot = 0.0;
    for (var i = 0u; i < hs; i = i + 1u) { dot = dot + qkv[qb + i] * qkv[kb + i]; }
    let s = dot * scale;
    att[row + t2] = s;
    mx = max(mx, s);
  }
  var sum = 0.0;
  for (var t2 = 0u; t2 <= t; t2 = t2 + 1u) {
    let e = exp(att[row + t2] - mx);
    att[row + t2] = e;
    sum = sum + e;
  }
  for (var t2 = 0u; t2 < p.T; t2 = t2 + 1u) {
    if (t2 <= t) { att[row + t2] = att[row + t2] / sum; } else { att[row + t2] = 0.0; }
  }
  let ob = (b * p.T + t) * p.C + h * hs;
  for (var i = 0u; i < hs; i = i + 1u) { out[ob + i] = 0.0; }
  for (var t2 = 0u; t2 <= t; t2 = t2 + 1u) {
    let a = att[row + t2];
    let vb = (b * p.T + t2) * C3 + 2u * p.C + h * hs;
    for (var i = 0u; i < hs; i = i + 1u) { out[ob + i] = out[ob + i] + a * qkv[vb + i]; }
  }
}

// one invocation per (b, h, t): datt row = pre-softmax gradient (scaled), then dq
@compute @workgroup_size(64)
fn backward_query(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= p.B * p.NH * p.T) { return; }
  let t = idx % p.T;
  let h = (idx / p.T) % p.NH;
  let b = idx / (p.T * p.NH);
  let hs = p.C / p.NH;
  let C3 = 3u * p.C;
  let scale = 1.0 / sqrt(f32(hs));
  let row = idx * p.T;
  let gb = (b * p.T + t) * p.C + h * hs;
  var s = 0.0;
  for (var t2 = 0u; t2 <= t; t2 = t2 + 1u) {
    let vb = (b * p.T + t2) * C3 + 2u * p.C + h * hs;
    var dot = 0.0;
    for (var i = 0u; i < hs; i = i + 1u) { dot = dot + dout[gb + i] * qkv[vb + i]; }
    att[row + t2] = dot;
    s = s + probs[row + t2] * dot;
  }
  for (var t2 = 0u; t2 < p.T; t2 = t2 + 1u) {
    if (t2 <= t) { att[row + t2] = probs[row + t2] * (att[row + t2] - s) * scale; }
    else { att[row + t2] = 0.0; }
  }
  let dqb = (b * p.T + t) * C3 + h * hs;
  for (var i = 0u; i < hs; i = i + 1u) {
    var acc = 0.0;
    for (var t2 = 0u; t2 <= t; t2 = t2 + 1u) {
      acc = acc + att[row + t2] * qkv[(b * p.T + t2) * C3 + p.C + h * hs + i];
    }
    out[dqb + i] = acc;
  }
}

// one invocation per (b, h, t2): dk and dv gathered over the queries t ≥ t2
@compute @workgroup_size(64)
fn backward_key_value(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= p.B * p.NH * p.T) { return; }
  let t2 = idx % p.T;
  let h = (idx / p.T) % p.NH;
  let b = idx / (p.T * p.NH);
  let hs = p.C / p.NH;
  let C3 = 3u * p.C;
  let head_rows = (b * p.NH + h) * p.T;
  let dkb = (b * p.T + t2) * C3 + p.C + h * hs;
  let dvb = dkb + p.C;
  for (var i = 0u; i < hs; i = i + 1u) {
    var dk = 0.0;
    var dv = 0.0;
    for (var t = t2; t < p.T; t = t + 1u) {
      let row = (head_rows + t) * p.T;
      dk = dk + att[row + t2] * qkv[(b * p.T + t) * C3 + h * hs + i];
      dv = dv + probs[row + t2] * dout[(b * p.T + t) * p.C + h * hs + i];
    }
    out[dkb + i] = dk;
    out[dvb + i] = dv;
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
