// Fused log-softmax + gather: per row, the log-probability of the target token and the
// entropy of the distribution, without materialising the softmax. Backward gives dlogits.
#include "common.wgsl"

struct Params { rows: u32, V: u32 }

@group(0) @binding(0) var<storage, read_write> logp: array<f32>;
@group(0) @binding(1) var<storage, read_write> entropy: array<f32>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<u32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<storage, read> dlogp: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

fn row_max(base: u32) -> f32 {
  var mx = -3.0e38;
  for (var v = 0u; v < p.V; v = v + 1u) { mx = max(mx, logits[base + v]); }
  return mx;
}

// one invocation per row
@compute @workgroup_size(64)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = flat_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.V;
  let mx = row_max(base);
  var sum = 0.0;
  var weighted = 0.0;
  for (var v = 0u; v < p.V; v = v + 1u) {
    let z = logits[base + v] - mx;
    let e = exp(z);
    sum = sum + e;
    weighted = weighted + e * z;
  }
  let log_z = log(sum);
  logp[r] = logits[base + targets[r]] - mx - log_z;
  entropy[r] = log_z - weighted / sum;
}

// one invocation per row: dlogits[r, v] = dlogp[r] · (1[v = target] − p_v)
@compute @workgroup_size(64)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let r = flat_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.V;
  let mx = row_max(base);
  var sum = 0.0;
  for (var v = 0u; v < p.V; v = v + 1u) { sum = sum + exp(logits[base + v] - mx); }
  let g = dlogp[r];
  let tgt = targets[r];
  for (var v = 0u; v < p.V; v = v + 1u) {
    let prob = exp(logits[base + v] - mx) / sum;
    var onehot = 0.0;
    if (v == tgt) { onehot = 1.0; }
    dlogits[base + v] = g * (onehot - prob);
  }
}
