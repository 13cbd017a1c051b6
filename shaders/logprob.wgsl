// Fused log-softmax + gather at a temperature: per row, the log-probability of the target token
// and the entropy of softmax(logits · inv_t), without materialising the softmax. TRL divides the
// training logits by the sampling temperature before both. Backward gives dlogits from dL/dlogp
// and, when has_dentropy, dL/dentropy (the entropy bonus).
#include "common.wgsl"

struct Params { rows: u32, V: u32, inv_t: f32, has_dentropy: u32 }

@group(0) @binding(0) var<storage, read_write> logp: array<f32>;
@group(0) @binding(1) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read> dlogp: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;
@group(0) @binding(7) var<storage, read> dentropy: array<f32>;

// the tempered logit z = logits · inv_t
fn z_at(i: u32) -> f32 { return logits[i] * p.inv_t; }

fn row_max(base: u32) -> f32 {
  var mx = -3.0e38;
  for (var v = 0u; v < p.V; v = v + 1u) { mx = max(mx, z_at(base + v)); }
  return mx;
}

// Σ exp(z − max) and Σ exp(z − max)·(z − max) of a row, in index order
fn row_sums(base: u32, mx: f32) -> vec2<f32> {
  var sum = 0.0;
  var weighted = 0.0;
  for (var v = 0u; v < p.V; v = v + 1u) {
    let z = z_at(base + v) - mx;
    let e = exp(z);
    sum = sum + e;
    weighted = weighted + e * z;
  }
  return vec2<f32>(sum, weighted);
}

// one invocation per row
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = flat_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.V;
  let mx = row_max(base);
  let s = row_sums(base, mx);
  let log_z = log(s.x);
  logp[r] = z_at(base + targets[r]) - mx - log_z;
  entropy[r] = log_z - s.y / s.x;
}

// one invocation per row:
// dlogits[r, v] = inv_t · (dlogp[r] · (1[v = target] − p_v) − dentropy[r] · p_v · (log p_v + H_r))
@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let r = flat_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.V;
  let mx = row_max(base);
  let s = row_sums(base, mx);
  let log_z = log(s.x);
  let h = log_z - s.y / s.x;
  let g = dlogp[r];
  var ge = 0.0;
  if (p.has_dentropy != 0u) { ge = dentropy[r]; }
  let tgt = targets[r];
  for (var v = 0u; v < p.V; v = v + 1u) {
    let z = z_at(base + v) - mx;
    let prob = exp(z) / s.x;
    var onehot = 0.0;
    if (v == tgt) { onehot = 1.0; }
    dlogits[base + v] = p.inv_t * (g * (onehot - prob) - ge * prob * (z - log_z + h));
  }
}
