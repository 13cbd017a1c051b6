// The sampling rule shared by sample.wgsl and decode.wgsl (pulled in with `#include`): temperature,
// top-k, inverse CDF with a counter-based uniform (seed, stream, position, sequence). The including
// file defines `fn logit(i: u32) -> f32` (where its logits live) and a uniform `p` with V, top_k,
// temperature, seed and stream.

fn kept(base: u32, v: u32) -> bool {
  if (p.top_k == 0u || p.top_k >= p.V) { return true; }
  var greater = 0u;
  for (var w = 0u; w < p.V; w = w + 1u) {
    if (logit(base + w) > logit(base + v)) { greater = greater + 1u; }
  }
  return greater < p.top_k;
}

/** The token drawn for position `next` of sequence n from the logits at [base, base + V). */
fn sample_row(base: u32, next: u32, n: u32) -> u32 {
  var mx = -3.0e38;
  var argmax = 0u;
  for (var v = 0u; v < p.V; v = v + 1u) {
    if (logit(base + v) > mx) { mx = logit(base + v); argmax = v; }
  }
  var id = argmax;
  if (p.temperature > 0.0) {
    let inv_t = 1.0 / p.temperature;
    var total = 0.0;
    for (var v = 0u; v < p.V; v = v + 1u) {
      if (kept(base, v)) { total = total + exp((logit(base + v) - mx) * inv_t); }
    }
    let goal = random_uniform(p.seed, p.stream, next, n) * total;
    var cum = 0.0;
    for (var v = 0u; v < p.V; v = v + 1u) {
      if (!kept(base, v)) { continue; }
      cum = cum + exp((logit(base + v) - mx) * inv_t);
      id = v;
      if (goal < cum) { break; }
    }
  }
  return id;
}
