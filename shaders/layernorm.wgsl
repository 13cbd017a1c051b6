// LayerNorm over the last dimension C (eps 1e-5), forward and backward.
// Backward is two gathers: one invocation per row for dinp, one per channel for dweight/dbias,
// each summing in a fixed order (no atomics, same bits every run).
#include "common.wgsl"

struct Params { rows: u32, C: u32, accumulate: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // forward: out  | backward: dinp
@group(0) @binding(1) var<storage, read_write> mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(9) var<uniform> p: Params;

const EPS: f32 = 1e-5;

@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = flat_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.C;
  var m = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { m = m + inp[base + c]; }
  m = m / f32(p.C);
  var v = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) { let d = inp[base + c] - m; v = v + d * d; }
  v = v / f32(p.C);
  let s = 1.0 / sqrt(v + EPS);
  for (var c = 0u; c < p.C; c = c + 1u) {
    out[base + c] = (inp[base + c] - m) * s * weight[c] + bias[c];
  }
  mean[r] = m;
  rstd[r] = s;
}

// dinp += (dnorm − mean(dnorm) − norm · mean(dnorm · norm)) · rstd, with dnorm = weight · dout
@compute @workgroup_size(64)
fn backward_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let r = flat_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.C;
  let m = mean[r];
  let s = rstd[r];
  var dnorm_mean = 0.0;
  var dnorm_norm_mean = 0.0;
  for (var c = 0u; c < p.C; c = c + 1u) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    dnorm_mean = dnorm_mean + dnorm;
    dnorm_norm_mean = dnorm_norm_mean + dnorm * norm;
  }
  dnorm_mean = dnorm_mean / f32(p.C);
  dnorm_norm_mean = dnorm_norm_mean / f32(p.C);
  for (var c = 0u; c < p.C; c = c + 1u) {
    let norm = (inp[base + c] - m) * s;
    let dnorm = weight[c] * dout[base + c];
    out[base + c] = out[base + c] + (dnorm - dnorm_mean - norm * dnorm_norm_mean) * s;
  }
}

// dweight, dbias: one invocation per channel, rows in order.
@compute @workgroup_size(64)
fn backward_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  var sw = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < p.rows; r = r + 1u) {
    let g = dout[r * p.C + c];
    sw = sw + g * (inp[r * p.C + c] - mean[r]) * rstd[r];
    sb = sb + g;
  }
  if (p.accumulate != 0u) {
    sw = sw + dweight[c];
    sb = sb + dbias[c];
  }
  dweight[c] = sw;
  dbias[c] = sb;
}
