// Sampling on the GPU, one invocation per sequence: temperature, top-k, inverse CDF with a
// counter-based uniform (seed, stream, position, sequence). Prompt positions are left as they
// are; after the end token, or past max_new, a sequence writes the end token.
#include "common.wgsl"
#include "rng.wgsl"

struct Params {
  N: u32, V: u32, max_len: u32, pos: u32,
  max_new: u32, top_k: u32, eos: u32, seed: u32,
  stream: u32, temperature: f32,
}

@group(0) @binding(0) var<storage, read_write> tokens: array<u32>;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> prompt_lens: array<u32>;
@group(0) @binding(3) var<storage, read_write> done: array<u32>;
@group(0) @binding(4) var<uniform> p: Params;

fn kept(base: u32, v: u32) -> bool {
  if (p.top_k == 0u || p.top_k >= p.V) { return true; }
  var greater = 0u;
  for (var w = 0u; w < p.V; w = w + 1u) {
    if (logits[base + w] > logits[base + v]) { greater = greater + 1u; }
  }
  return greater < p.top_k;
}

@compute @workgroup_size(64)
fn sample(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let n = flat_index(wid, nwg, lid);
  if (n >= p.N) { return; }
  let next = p.pos + 1u;
  let plen = prompt_lens[n];
  if (next >= p.max_len || next < plen) { return; }
  let slot = n * p.max_len + next;
  if (done[n] != 0u || next >= plen + p.max_new) { tokens[slot] = p.eos; return; }
  let base = n * p.V;
  var mx = -3.0e38;
  var argmax = 0u;
  for (var v = 0u; v < p.V; v = v + 1u) {
    if (logits[base + v] > mx) { mx = logits[base + v]; argmax = v; }
  }
  var id = argmax;
  if (p.temperature > 0.0) {
    let inv_t = 1.0 / p.temperature;
    var total = 0.0;
    for (var v = 0u; v < p.V; v = v + 1u) {
      if (kept(base, v)) { total = total + exp((logits[base + v] - mx) * inv_t); }
    }
    let goal = random_uniform(p.seed, p.stream, next, n) * total;
    var cum = 0.0;
    for (var v = 0u; v < p.V; v = v + 1u) {
      if (!kept(base, v)) { continue; }
      cum = cum + exp((logits[base + v] - mx) * inv_t);
      id = v;
      if (goal < cum) { break; }
    }
  }
  tokens[slot] = id;
  if (id == p.eos) { done[n] = 1u; }
}
