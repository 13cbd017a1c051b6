// Token + learned position embedding, its backward (gathers: per vocabulary row, per position
// row, summing contributors in a fixed order), and the one-position lookup used in decoding.
#include "common.wgsl"

struct Params { B: u32, T: u32, C: u32, V: u32, rows_pe: u32, accumulate: u32, pos: u32, max_len: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;  // forward: out | backward: dwte
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> dwpe: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

// one invocation per (b·T + t, c)
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.B * p.T * p.C) { return; }
  let c = i % p.C;
  let bt = i / p.C;
  let t = bt % p.T;
  out[i] = wte[tokens[bt] * p.C + c] + wpe[t * p.C + c];
}

// one invocation per (v, c) of dwte
@compute @workgroup_size(64)
fn backward_tokens(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.V * p.C) { return; }
  let c = i % p.C;
  let v = i / p.C;
  var s = 0.0;
  for (var bt = 0u; bt < p.B * p.T; bt = bt + 1u) {
    if (tokens[bt] == v) { s = s + dout[bt * p.C + c]; }
  }
  if (p.accumulate != 0u) { s = s + out[i]; }
  out[i] = s;
}

// one invocation per (t, c) of dwpe; rows past T (unused positions) get 0
@compute @workgroup_size(64)
fn backward_positions(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.rows_pe * p.C) { return; }
  let c = i % p.C;
  let t = i / p.C;
  var s = 0.0;
  if (t < p.T) {
    for (var b = 0u; b < p.B; b = b + 1u) { s = s + dout[(b * p.T + t) * p.C + c]; }
  }
  if (p.accumulate != 0u) { s = s + dwpe[i]; }
  dwpe[i] = s;
}

// decoding: one invocation per (n, c); tokens is [N, max_len], B = N
@compute @workgroup_size(64)
fn forward_at(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.B * p.C) { return; }
  let c = i % p.C;
  let n = i / p.C;
  out[i] = wte[tokens[n * p.max_len + p.pos] * p.C + c] + wpe[p.pos * p.C + c];
}
