// The GRPO token loss and its gradient (TRL's definitions, token-level importance ratio):
//   ρ = exp(logp − logp_old)
//   objective = min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A)
//   kl = exp(ref − logp) − (ref − logp) − 1                                (k3 estimator)
//   token loss = −objective + β·kl,   loss = Σ mask · weight_i · token loss
// The loss_type (grpo, bnpo, dr_grpo, dapo) is entirely in the per-sequence weights.
// dL/dlogp = mask·weight·(−A·ρ where the unclipped branch is the min, else 0  +  β·(1 − e^(ref−logp))).
// Statistics are reduced by one workgroup in a fixed order: same bits every run.

struct Params { N: u32, T: u32, epsilon_low: f32, epsilon_high: f32, beta: f32, seq_offset: u32 }

@group(0) @binding(0) var<storage, read> logp: array<f32>;
@group(0) @binding(1) var<storage, read> old_logp: array<f32>;
@group(0) @binding(2) var<storage, read> ref_logp: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> advantages: array<f32>;  // sequence i: [seq_offset + i]
@group(0) @binding(5) var<storage, read> weights: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogp: array<f32>;
@group(0) @binding(7) var<storage, read_write> token_terms: array<f32>; // [objective | kl | clip code]
@group(0) @binding(8) var<storage, read> entropy: array<f32>;
@group(0) @binding(9) var<storage, read_write> stats: array<f32>;
@group(0) @binding(10) var<uniform> p: Params;

// one invocation per token
@compute @workgroup_size(64)
fn token_terms_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  let n = p.N * p.T;
  if (i >= n) { return; }
  let A = advantages[p.seq_offset + i / p.T];
  let ratio = exp(logp[i] - old_logp[i]);
  let clipped = clamp(ratio, 1.0 - p.epsilon_low, 1.0 + p.epsilon_high);
  let unclipped_obj = ratio * A;
  let clipped_obj = clipped * A;
  let objective = min(unclipped_obj, clipped_obj);
  let d = ref_logp[i] - logp[i];
  let kl = exp(d) - d - 1.0;
  var grad = 0.0;
  if (unclipped_obj <= clipped_obj) { grad = -A * ratio; }
  if (p.beta != 0.0) { grad = grad + p.beta * (1.0 - exp(d)); }
  dlogp[i] = mask[i] * weights[i / p.T] * grad;
  var code = 0.0;
  if (ratio < 1.0 - p.epsilon_low && A < 0.0) { code = -1.0; }
  if (ratio > 1.0 + p.epsilon_high && A > 0.0) { code = 1.0; }
  token_terms[i] = objective;
  token_terms[n + i] = kl;
  token_terms[2u * n + i] = code;
}

const RWG: u32 = 64u;
const NS: u32 = 9u;
var<workgroup> partial: array<array<f32, 9>, 64>;

// one workgroup: thread l takes sequences l, l + 64, …; then a fixed-order tree over threads
@compute @workgroup_size(64)
fn reduce_stats(@builtin(local_invocation_index) lid: u32) {
  var s: array<f32, 9>;
  for (var k = 0u; k < NS; k = k + 1u) { s[k] = 0.0; }
  s[7] = 3.0e38;
  s[8] = -3.0e38;
  let n = p.N * p.T;
  for (var seq = lid; seq < p.N; seq = seq + RWG) {
    let w = weights[seq];
    for (var t = 0u; t < p.T; t = t + 1u) {
      let i = seq * p.T + t;
      let m = mask[i];
      if (m == 0.0) { continue; }
      let objective = token_terms[i];
      let kl = token_terms[n + i];
      let code = token_terms[2u * n + i];
      s[0] = s[0] + m * w * (-objective + p.beta * kl);
      s[1] = s[1] + m;
      s[2] = s[2] + m * kl;
      if (code < 0.0) { s[3] = s[3] + m; }
      if (code > 0.0) { s[4] = s[4] + m; }
      if (code != 0.0) { s[5] = s[5] + m; }
      s[6] = s[6] + m * entropy[i];
      let ratio = exp(logp[i] - old_logp[i]);
      s[7] = min(s[7], ratio);
      s[8] = max(s[8], ratio);
    }
  }
  partial[lid] = s;
  for (var stride = RWG / 2u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lid < stride) {
      for (var k = 0u; k < 7u; k = k + 1u) { partial[lid][k] = partial[lid][k] + partial[lid + stride][k]; }
      partial[lid][7] = min(partial[lid][7], partial[lid + stride][7]);
      partial[lid][8] = max(partial[lid][8], partial[lid + stride][8]);
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    for (var k = 0u; k < NS; k = k + 1u) { stats[k] = partial[0][k]; }
  }
}
