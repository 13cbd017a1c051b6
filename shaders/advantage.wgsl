// GRPO advantages from group rewards, as TRL computes them:
//   A_i = r_i − mean(group),  divided by (std + 1e-4) unless scale_rewards = none,
//   std = sample (n − 1) standard deviation of the group (group, none) or of the batch (batch).
// GDPO (multi_objective_aggregation = normalize_then_sum, aggregation 1): each of the K reward
// functions' scores is normalised within its group, (r − mean) / (std + 1e-4), the results are
// weighted and summed, and that sum is normalised over the batch the same way.
// One invocation per group; the batch statistics are recomputed by each in the same fixed order.
#include "common.wgsl"

struct Params { num_groups: u32, G: u32, scale: u32, aggregation: u32, K: u32 } // scale: 0 group, 1 batch, 2 none

@group(0) @binding(0) var<storage, read> rewards: array<f32>;
@group(0) @binding(1) var<storage, read_write> advantages: array<f32>;
@group(0) @binding(2) var<storage, read_write> std_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> zero_std: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> rewards_per_func: array<f32>; // [N, K]
@group(0) @binding(6) var<storage, read> reward_weights: array<f32>;   // [K]

// torch.isclose(std, 0) with its default atol
const ZERO_STD: f32 = 1e-8;

fn sample_std(start: u32, n: u32) -> f32 {
  var mean = 0.0;
  for (var i = 0u; i < n; i = i + 1u) { mean = mean + rewards[start + i]; }
  mean = mean / f32(n);
  var ss = 0.0;
  for (var i = 0u; i < n; i = i + 1u) { let d = rewards[start + i] - mean; ss = ss + d * d; }
  return sqrt(ss / f32(n - 1u));
}

@compute @workgroup_size(64)
fn advantage(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let g = flat_index(wid, nwg, lid);
  if (g >= p.num_groups) { return; }
  let start = g * p.G;
  var mean = 0.0;
  for (var i = 0u; i < p.G; i = i + 1u) { mean = mean + rewards[start + i]; }
  mean = mean / f32(p.G);
  let group_std = sample_std(start, p.G);
  var scale_std = group_std;
  if (p.scale == 1u) { scale_std = sample_std(0u, p.num_groups * p.G); }
  var flag = 0.0;
  if (group_std <= ZERO_STD) { flag = 1.0; }
  zero_std[g] = flag;
  for (var i = 0u; i < p.G; i = i + 1u) {
    var a = rewards[start + i] - mean;
    if (p.scale != 2u) { a = a / (scale_std + 1e-4); }
    advantages[start + i] = a;
    std_out[start + i] = scale_std;
  }
}

// GDPO: completion i's weighted sum of its functions' group-normalised scores
fn normalized_sum(i: u32) -> f32 {
  let start = (i / p.G) * p.G;
  var total = 0.0;
  for (var k = 0u; k < p.K; k = k + 1u) {
    var mean = 0.0;
    for (var j = 0u; j < p.G; j = j + 1u) { mean = mean + rewards_per_func[(start + j) * p.K + k]; }
    mean = mean / f32(p.G);
    var ss = 0.0;
    for (var j = 0u; j < p.G; j = j + 1u) { let d = rewards_per_func[(start + j) * p.K + k] - mean; ss = ss + d * d; }
    let group_std = sqrt(ss / f32(p.G - 1u));
    total = total + reward_weights[k] * (rewards_per_func[i * p.K + k] - mean) / (group_std + 1e-4);
  }
  return total;
}

@compute @workgroup_size(64)
fn advantage_normalize_then_sum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_index) lid: u32) {
  let g = flat_index(wid, nwg, lid);
  if (g >= p.num_groups) { return; }
  let n = p.num_groups * p.G;
  var mean = 0.0;
  for (var i = 0u; i < n; i = i + 1u) { mean = mean + normalized_sum(i); }
  mean = mean / f32(n);
  var ss = 0.0;
  for (var i = 0u; i < n; i = i + 1u) { let d = normalized_sum(i) - mean; ss = ss + d * d; }
  let batch_std = sqrt(ss / f32(n - 1u));
  var flag = 0.0;
  if (batch_std <= ZERO_STD) { flag = 1.0; }
  zero_std[g] = flag;
  for (var j = 0u; j < p.G; j = j + 1u) {
    let i = g * p.G + j;
    advantages[i] = (normalized_sum(i) - mean) / (batch_std + 1e-4);
    std_out[i] = batch_std;
  }
}
