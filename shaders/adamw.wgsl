// AdamW with global gradient-norm clipping, over one flat parameter buffer.
// The norm is a two-stage reduction in a fixed order (per-workgroup tree, then one workgroup),
// so it is the same bits every run; the update reads it from the GPU, no round trip.

struct Params {
  n: u32, decay_end: u32, num_partials: u32, chunk: u32,
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  weight_decay: f32, bias_correction1: f32, bias_correction2: f32, max_grad_norm: f32,
}

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_norm: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

const RWG: u32 = 256u;
var<workgroup> scratch: array<f32, 256>;

fn tree_reduce(lid: u32) {
  for (var stride = RWG / 2u; stride > 0u; stride = stride / 2u) {
    workgroupBarrier();
    if (lid < stride) { scratch[lid] = scratch[lid] + scratch[lid + stride]; }
  }
  workgroupBarrier();
}

// workgroup w sums the squares of grads[w·chunk, (w+1)·chunk)
@compute @workgroup_size(256)
fn sum_squares_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let start = wid.x * p.chunk;
  let end = min(start + p.chunk, p.n);
  var s = 0.0;
  for (var i = start + lid; i < end; i = i + RWG) { s = s + grads[i] * grads[i]; }
  scratch[lid] = s;
  tree_reduce(lid);
  if (lid == 0u) { partials[wid.x] = scratch[0]; }
}

@compute @workgroup_size(256)
fn sum_squares_final(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.num_partials; i = i + RWG) { s = s + partials[i]; }
  scratch[lid] = s;
  tree_reduce(lid);
  if (lid == 0u) { grad_norm[0] = sqrt(scratch[0]); }
}

@compute @workgroup_size(64)
fn update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= p.n) { return; }
  var clip = 1.0;
  if (p.max_grad_norm > 0.0) { clip = min(1.0, p.max_grad_norm / (grad_norm[0] + 1e-6)); }
  let g = grads[i] * clip;
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  var decay = 0.0;
  if (i < p.decay_end) { decay = p.weight_decay * params[i]; }
  params[i] = params[i] - p.lr * ((mi / p.bias_correction1) / (sqrt(vi / p.bias_correction2) + p.eps) + decay);
}
