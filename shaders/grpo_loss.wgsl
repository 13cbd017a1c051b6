// The GRPO token loss and its gradient, as TRL's GRPOTrainer._compute_loss defines them.
//   c1 = exp(logp − logp_old)                  per token, or per sequence (GSPO: mean log-ratio)
//   per-token loss ℓ by objective (kind):
//     clip   −min(c1'·A, clip(c1, 1 − ε_low, 1 + ε_high)·A),  c1' = min(c1, δ) when δ > 0
//     cispo  −sg[min(c1, ε_high)]·A·logp
//     sapo   −σ(τ(c1 − 1))·(4/τ)·A,  τ = τ_pos if A > 0 else τ_neg
//     vespo  −sg[φ]·A·logp,  φ = e^{λ + k·log w − λw},  log w = clamp(Σ_t clamp(log-ratio, ±20))
//   kl = exp(ref − logp) − (ref − logp) − 1 (k3), times c1 with use_bias_correction_kl
//   loss = Σ mask·weight_i·(kept·ℓ + β·kl) − entropy_coef·H̄_kept / ga
// kept: the token's entropy is ≥ the (1 − top_entropy_quantile) quantile of the masked entropies.
// The loss_type's aggregation (grpo, bnpo, dr_grpo, dapo, luspo, …) is in the per-sequence weights.
// The CPU twin is grpoLoss in src/engine/cpu/cpuBackend.ts (with src/engine/cpu/grpoObjective.ts).
// Every reduction runs in one workgroup in a fixed order: same bits every run.
#include "common.wgsl"

struct Params {
  N: u32, T: u32, epsilon_low: f32, epsilon_high: f32, beta: f32, seq_offset: u32,
  kind: u32,          // 0 clip, 1 cispo, 2 sapo, 3 vespo
  sequence_level: u32,
  delta: f32,         // 0 = off
  sapo_pos: f32, sapo_neg: f32,
  vespo_k_pos: f32, vespo_lambda_pos: f32, vespo_k_neg: f32, vespo_lambda_neg: f32,
  quantile: f32,      // 1 − top_entropy_quantile; unused when the mask is off
  top_entropy: u32,   // 1 when top_entropy_quantile < 1
  entropy_coef: f32, ga: f32,
  kl_correction: u32, // use_bias_correction_kl
}

@group(0) @binding(0) var<storage, read> logp: array<f32>;
@group(0) @binding(1) var<storage, read> old_logp: array<f32>;
@group(0) @binding(2) var<storage, read> ref_logp: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read> advantages: array<f32>;  // sequence i: [seq_offset + i]
@group(0) @binding(5) var<storage, read> weights: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogp: array<f32>;
@group(0) @binding(7) var<storage, read_write> token_terms: array<f32>; // [−kept·ℓ | kl | clip code]
@group(0) @binding(8) var<storage, read> entropy: array<f32>;
@group(0) @binding(9) var<storage, read_write> stats: array<f32>;
@group(0) @binding(10) var<uniform> p: Params;
// [0] entropy threshold, [1] Σ kept tokens, [2] Σ their entropy, [3] unused,
// then SEQ floats per sequence (A, weight, count, log c1, sequence gradient, φ, kept count, −),
// then the masked entropies in ascending order (entropy_rank)
@group(0) @binding(11) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(12) var<storage, read_write> dentropy: array<f32>;

const SEQ: u32 = 8u;
const SEQ_BASE: u32 = 4u;
const BIG: f32 = 3.0e38;

fn seq_at(i: u32, k: u32) -> u32 { return SEQ_BASE + i * SEQ + k; }
fn sorted_base() -> u32 { return SEQ_BASE + p.N * SEQ; }
fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn sapo_tau(A: f32) -> f32 { if (A > 0.0) { return p.sapo_pos; } return p.sapo_neg; }
fn capped(c1: f32) -> f32 { if (p.delta > 0.0) { return min(c1, p.delta); } return c1; }
fn clipped(c1: f32) -> f32 { return clamp(c1, 1.0 - p.epsilon_low, 1.0 + p.epsilon_high); }
fn log_ratio(i: u32) -> f32 { return logp[i] - old_logp[i]; }
// k3 = e^d − d − 1 and e^d − 1 lose most of their digits to cancellation in float32 for small
// |d| (the usual case: the policy near its reference); below 0.5 their Taylor series keep them
// (truncation < 1e-8 relative), above it the direct forms are exact enough.
fn k3(d: f32) -> f32 {
  if (abs(d) < 0.5) {
    return 0.5 * d * d * (1.0 + d / 3.0 * (1.0 + d / 4.0 * (1.0 + d / 5.0 * (1.0 + d / 6.0 * (1.0 + d / 7.0 * (1.0 + d / 8.0 * (1.0 + d / 9.0)))))));
  }
  return exp(d) - d - 1.0;
}
fn expm1(d: f32) -> f32 {
  if (abs(d) < 0.5) {
    return d * (1.0 + d / 2.0 * (1.0 + d / 3.0 * (1.0 + d / 4.0 * (1.0 + d / 5.0 * (1.0 + d / 6.0 * (1.0 + d / 7.0 * (1.0 + d / 8.0)))))));
  }
  return exp(d) - 1.0;
}
// the importance ratio e^x: near 1 (|x| < 0.5, where the unclipped terms live and cancel across
// a group) from the series, to about an ulp; the device's exp can be several ulps off
fn ratio_exp(x: f32) -> f32 {
  if (abs(x) < 0.5) { return 1.0 + expm1(x); }
  return exp(x);
}
fn kept(i: u32, threshold: f32) -> f32 {
  if (mask[i] != 0.0 && entropy[i] * mask[i] >= threshold) { return 1.0; }
  return 0.0;
}

// TRL's per_token_loss (before the entropy mask, KL and aggregation)
fn per_token_loss(c1: f32, A: f32, lp: f32, phi: f32) -> f32 {
  switch (p.kind) {
    case 1u: { return -min(c1, p.epsilon_high) * A * lp; }
    case 2u: { let tau = sapo_tau(A); return -sigmoid(tau * (c1 - 1.0)) * (4.0 / tau) * A; }
    case 3u: { return -phi * A * lp; }
    default: { return -min(capped(c1) * A, clipped(c1) * A); }
  }
}

// ∂ℓ/∂ log c1 (torch's min splits a tie in halves; clamp passes on its closed interval)
fn ratio_grad(c1: f32, A: f32) -> f32 {
  if (p.kind == 0u) {
    let a = capped(c1) * A;
    let b = clipped(c1) * A;
    var through_a = 0.0;
    if (p.delta == 0.0 || c1 <= p.delta) { through_a = 1.0; }
    var through_b = 0.0;
    if (c1 >= 1.0 - p.epsilon_low && c1 <= 1.0 + p.epsilon_high) { through_b = 1.0; }
    var to_a = 0.5;
    if (a < b) { to_a = 1.0; }
    if (a > b) { to_a = 0.0; }
    return -A * (to_a * through_a + (1.0 - to_a) * through_b) * c1;
  }
  if (p.kind == 2u) {
    let sg = sigmoid(sapo_tau(A) * (c1 - 1.0));
    return -4.0 * A * sg * (1.0 - sg) * c1;
  }
  return 0.0;
}

// ∂ℓ/∂logp through logp itself (cispo and vespo)
fn direct_grad(c1: f32, A: f32, phi: f32) -> f32 {
  if (p.kind == 1u) { return -min(c1, p.epsilon_high) * A; }
  if (p.kind == 3u) { return -phi * A; }
  return 0.0;
}

fn clip_code(c1: f32, A: f32) -> f32 {
  if (p.kind == 1u) {
    if (c1 > p.epsilon_high && A > 0.0) { return 1.0; }
    return 0.0;
  }
  if (p.kind != 0u) { return 0.0; }
  let c = capped(c1);
  if (c < 1.0 - p.epsilon_low && A < 0.0) { return -1.0; }
  if (c > 1.0 + p.epsilon_high && A > 0.0) { return 1.0; }
  return 0.0;
}

fn vespo_phi(A: f32, clamped_sum: f32) -> f32 {
  if (p.kind != 3u) { return 0.0; }
  let log_w = clamp(clamped_sum, log(1e-8), 20.0);
  var k = p.vespo_k_neg;
  var lambda = p.vespo_lambda_neg;
  if (A >= 0.0) { k = p.vespo_k_pos; lambda = p.vespo_lambda_pos; }
  lambda = max(lambda, 1e-4);
  let phi = exp(lambda + k * log_w - lambda * exp(log_w));
  if (phi != phi || phi > BIG) { return 0.0; } // nan_to_num(nan = 0, posinf = 0)
  return phi;
}

// ---- 1. (top_entropy_quantile < 1) each masked entropy to its place in ascending order ----
@compute @workgroup_size(64)
fn entropy_rank(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let n = p.N * p.T;
  if (i >= n || mask[i] == 0.0) { return; }
  let e = entropy[i];
  var rank = 0u;
  for (var j = 0u; j < n; j = j + 1u) {
    if (mask[j] == 0.0) { continue; }
    if (entropy[j] < e || (entropy[j] == e && j < i)) { rank = rank + 1u; }
  }
  scratch[sorted_base() + rank] = e;
}

var<workgroup> kept_partial: array<vec2<f32>, 64>;
var<workgroup> shared_threshold: f32;

// ---- 2. one workgroup: the entropy threshold, then per sequence its terms ----
@compute @workgroup_size(64)
fn sequence_terms(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) {
    var threshold = -BIG; // no entropy mask: every masked token is kept
    if (p.top_entropy == 1u) {
      var count = 0u;
      for (var i = 0u; i < p.N * p.T; i = i + 1u) { if (mask[i] != 0.0) { count = count + 1u; } }
      threshold = BIG; // nothing masked in: nothing kept
      if (count > 0u) {
        // torch.quantile, linear interpolation, with ATen's lerp
        let rank = p.quantile * f32(count - 1u);
        let below = floor(rank);
        let weight = rank - below;
        let lo = scratch[sorted_base() + u32(below)];
        let hi = scratch[sorted_base() + u32(ceil(rank))];
        if (weight < 0.5) { threshold = lo + weight * (hi - lo); } else { threshold = hi - (hi - lo) * (1.0 - weight); }
      }
    }
    shared_threshold = threshold;
    scratch[0] = threshold;
  }
  workgroupBarrier();
  let threshold = shared_threshold;
  var kept_sums = vec2<f32>(0.0, 0.0);
  for (var s = lid; s < p.N; s = s + WG) {
    let A = advantages[p.seq_offset + s];
    let w = weights[s];
    var count = 0.0; var lr_sum = 0.0; var clamped_sum = 0.0; var kept_count = 0.0; var kl_sum = 0.0;
    for (var t = 0u; t < p.T; t = t + 1u) {
      let i = s * p.T + t;
      let m = mask[i];
      let lr = log_ratio(i);
      let k = kept(i, threshold);
      count = count + m;
      lr_sum = lr_sum + lr * m;
      clamped_sum = clamped_sum + clamp(lr, -20.0, 20.0) * m;
      kept_count = kept_count + m * k;
      kl_sum = kl_sum + m * k3(ref_logp[i] - logp[i]);
      kept_sums = kept_sums + vec2<f32>(m * k, m * k * entropy[i]);
    }
    let log_c1 = lr_sum / max(1.0, count);
    var gseq = 0.0;
    // sequence level: c1_i = exp(mean log-ratio), so ∂c1_i/∂logp_t = c1_i · mask_t / |o_i|; the
    // bias-corrected KL (β·kl·c1_i on each token) reaches every token of the sequence through c1_i
    if (p.sequence_level == 1u) {
      let c1 = ratio_exp(log_c1);
      var through_ratio = kept_count * ratio_grad(c1, A);
      if (p.kl_correction == 1u) { through_ratio = through_ratio + p.beta * kl_sum * c1; }
      gseq = w * through_ratio / max(1.0, count);
    }
    scratch[seq_at(s, 0u)] = A;
    scratch[seq_at(s, 1u)] = w;
    scratch[seq_at(s, 2u)] = count;
    scratch[seq_at(s, 3u)] = log_c1;
    scratch[seq_at(s, 4u)] = gseq;
    scratch[seq_at(s, 5u)] = vespo_phi(A, clamped_sum);
    scratch[seq_at(s, 6u)] = kept_count;
  }
  kept_partial[lid] = kept_sums;
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lid < stride) { kept_partial[lid] = kept_partial[lid] + kept_partial[lid + stride]; }
  }
  workgroupBarrier();
  if (lid == 0u) { scratch[1] = kept_partial[0].x; scratch[2] = kept_partial[0].y; }
}

// ---- 3. one invocation per token: the terms and dL/dlogp ----
@compute @workgroup_size(64)
fn token_terms_main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let n = p.N * p.T;
  if (i >= n) { return; }
  let s = i / p.T;
  let A = scratch[seq_at(s, 0u)];
  let w = scratch[seq_at(s, 1u)];
  let phi = scratch[seq_at(s, 5u)];
  var c1 = ratio_exp(log_ratio(i));
  if (p.sequence_level == 1u) { c1 = ratio_exp(scratch[seq_at(s, 3u)]); }
  let k = kept(i, scratch[0]);
  let d = ref_logp[i] - logp[i];
  let raw_kl = k3(d);
  var kl = raw_kl;
  if (p.kl_correction == 1u) { kl = raw_kl * c1; }
  var grad = k * direct_grad(c1, A, phi);
  if (p.sequence_level == 0u) { grad = grad + k * ratio_grad(c1, A); }
  if (p.beta != 0.0) {
    let dkl = -expm1(d);
    if (p.kl_correction == 0u) { grad = grad + p.beta * dkl; }
    else {
      // ∂(kl·c1)/∂logp = c1·∂kl/∂logp + kl·c1 at token level (sequence level: c1's part is in gseq)
      var through_ratio = 0.0;
      if (p.sequence_level == 0u) { through_ratio = raw_kl * c1; }
      grad = grad + p.beta * (c1 * dkl + through_ratio);
    }
  }
  dlogp[i] = mask[i] * (w * grad + scratch[seq_at(s, 4u)]);
  // shown for every token, masked or not; only the entropy mask (when on) zeroes a token's objective
  token_terms[i] = -select(1.0, k, p.top_entropy == 1u) * per_token_loss(c1, A, logp[i], phi);
  token_terms[n + i] = kl;
  token_terms[2u * n + i] = clip_code(c1, A);
}

// ---- 4. (entropy_coef ≠ 0) the entropy bonus' gradient: −coef · kept / (Σ kept · ga) ----
@compute @workgroup_size(64)
fn entropy_bonus_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.N * p.T) { return; }
  dentropy[i] = -p.entropy_coef * mask[i] * kept(i, scratch[0]) / (max(1.0, scratch[1]) * p.ga);
}

// stats slots (GrpoStat in src/engine/backend.ts)
const NS: u32 = 17u;
var<workgroup> partial: array<array<f32, 17>, 64>;

// ---- 5. one workgroup: thread l takes sequences l, l + 64, …; then a fixed-order tree ----
@compute @workgroup_size(64)
fn reduce_stats(@builtin(local_invocation_index) lid: u32) {
  var s: array<f32, 17>;
  for (var k = 0u; k < NS; k = k + 1u) { s[k] = 0.0; }
  s[7] = BIG; s[8] = -BIG; s[10] = BIG; s[11] = -BIG;
  let n = p.N * p.T;
  for (var seq = lid; seq < p.N; seq = seq + WG) {
    let w = scratch[seq_at(seq, 1u)];
    var low = 0.0; var high = 0.0;
    for (var t = 0u; t < p.T; t = t + 1u) {
      let i = seq * p.T + t;
      let m = mask[i];
      if (m == 0.0) { continue; }
      let kl = token_terms[n + i];
      let code = token_terms[2u * n + i];
      s[15] = s[15] + m * w * (-token_terms[i] + p.beta * kl);
      s[1] = s[1] + m;
      s[2] = s[2] + m * kl;
      s[6] = s[6] + m * entropy[i];
      if (code < 0.0) { low = low + m; }
      if (code > 0.0) { high = high + m; }
      let ratio = ratio_exp(log_ratio(i));
      s[7] = min(s[7], ratio);
      s[8] = max(s[8], ratio);
    }
    var denominator = scratch[seq_at(seq, 2u)];
    if (p.sequence_level == 1u) { // one flag per sequence, over all sequences
      let code = clip_code(ratio_exp(scratch[seq_at(seq, 3u)]), scratch[seq_at(seq, 0u)]);
      low = select(0.0, 1.0, code < 0.0);
      high = select(0.0, 1.0, code > 0.0);
      denominator = 1.0;
    }
    if (p.kind == 1u) {
      s[12] = s[12] + high;
    } else {
      s[3] = s[3] + low;
      s[4] = s[4] + high;
      s[5] = s[5] + low + high;
      if (denominator > 0.0) {
        s[10] = min(s[10], low / denominator);
        s[11] = max(s[11], high / denominator);
      }
    }
    s[9] = s[9] + denominator;
    s[13] = s[13] + scratch[seq_at(seq, 5u)];
    s[14] = s[14] + 1.0;
  }
  partial[lid] = s;
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lid < stride) {
      for (var k = 0u; k < NS; k = k + 1u) {
        let a = partial[lid][k];
        let b = partial[lid + stride][k];
        if (k == 7u || k == 10u) { partial[lid][k] = min(a, b); }
        else if (k == 8u || k == 11u) { partial[lid][k] = max(a, b); }
        else { partial[lid][k] = a + b; }
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    for (var k = 0u; k < NS; k = k + 1u) { stats[k] = partial[0][k]; }
    let bonus_entropy = scratch[2] / max(1.0, scratch[1]);
    stats[16] = bonus_entropy;
    stats[0] = partial[0][15] - p.entropy_coef * bonus_entropy / p.ga;
  }
}
