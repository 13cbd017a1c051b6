// Sampling on the GPU, one invocation per sequence: temperature, top-k, inverse CDF with a
// counter-based uniform (seed, stream, position, sequence). Prompt positions are left as they
// are; after the end token, or past max_new, a sequence writes the end token.
#include "common.wgsl"
#include "rng.wgsl"
#include "sampling.wgsl"

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

fn logit(i: u32) -> f32 { return logits[i]; }

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
  let id = sample_row(n * p.V, next, n);
  tokens[slot] = id;
  if (id == p.eos) { done[n] = 1u; }
}
