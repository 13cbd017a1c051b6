// out[M,N] = op(a)[M,K] · op(b)[K,N] (+ bias[N]) (+ out), with op given by strides, so one
// kernel serves y = x·Wᵀ (forward), dx = dy·W and dW = dyᵀ·x (backward).
// Each invocation computes a 4×4 block of out held in registers: on a software adapter this
// ran ~12× faster than a 16×16 shared-memory tile (barriers are expensive on a CPU).
#include "common.wgsl"

struct Params {
  M: u32, N: u32, K: u32,
  a_sm: u32, a_sk: u32, // a[m, k] = a[m * a_sm + k * a_sk]
  b_sk: u32, b_sn: u32, // b[k, n] = b[k * b_sk + n * b_sn]
  flags: u32,           // bit 0: add bias, bit 1: accumulate into out
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(8, 8)
fn matmul(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  // Rows/columns past the edge are clamped for loading and skipped when storing.
  let mx = p.M - 1u;
  let nx = p.N - 1u;
  let am = vec4<u32>(m0, min(m0 + 1u, mx), min(m0 + 2u, mx), min(m0 + 3u, mx)) * p.a_sm;
  let bn = vec4<u32>(n0, min(n0 + 1u, nx), min(n0 + 2u, nx), min(n0 + 3u, nx)) * p.b_sn;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k = k + 1u) {
    let ak = k * p.a_sk;
    let bk = k * p.b_sk;
    let bv = vec4<f32>(b[bk + bn.x], b[bk + bn.y], b[bk + bn.z], b[bk + bn.w]);
    acc0 = acc0 + a[am.x + ak] * bv;
    acc1 = acc1 + a[am.y + ak] * bv;
    acc2 = acc2 + a[am.z + ak] * bv;
    acc3 = acc3 + a[am.w + ak] * bv;
  }
  var rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i = i + 1u) {
    let m = m0 + i;
    if (m >= p.M) { break; }
    for (var j = 0u; j < 4u; j = j + 1u) {
      let n = n0 + j;
      if (n >= p.N) { break; }
      var v = rows[i][j];
      if ((p.flags & 1u) != 0u) { v = v + bias[n]; }
      if ((p.flags & 2u) != 0u) { v = v + out[m * p.N + n]; }
      out[m * p.N + n] = v;
    }
  }
}

// out = dbias[N], a = dout[M,N]: column sums, one invocation per column, rows in order.
@compute @workgroup_size(64)
fn bias_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let n = flat_index(wid, nwg, lid);
  if (n >= p.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < p.M; m = m + 1u) { s = s + a[m * p.N + n]; }
  if ((p.flags & 2u) != 0u) { s = s + out[n]; }
  out[n] = s;
}
