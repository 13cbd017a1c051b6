// Shared by the kernels (pulled in with `#include "common.wgsl"`).
// 1-D kernels run 64 invocations per workgroup on a grid that may wrap into y
// (a dimension holds at most 65535 workgroups).
const WG: u32 = 64u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}
