// The sampling rule shared by sample.wgsl and decode.wgsl (pulled in with `#include`): temperature,
// top-k, inverse CDF with a counter-based uniform (seed, stream, position, sequence). The including
// file defines `fn logit(i: u32) -> f32` (where its logits live) and a uniform `p` with V, top_k,
// temperature, seed and stream.
//
// Top-k keeps v when fewer than top_k logits exceed logit(v), which is when logit(v) ≥ the top_k-th
// largest logit (ties kept): one number, the smallest kept logit, decides for every v. It and the
// row's peak are found over a share of the row (v = first, first + step, …), so that a workgroup
// can split them; both are exact (a count, a min, a max), so the split changes no bit. The draw
// itself sums in index order, as the CPU twin does.

fn top_k_active() -> bool { return p.top_k != 0u && p.top_k < p.V; }

/** The smallest kept logit among v = first, first + step, … (3e38 when none of them is kept). */
fn kept_floor_part(base: u32, first: u32, step: u32) -> f32 {
  var lowest_kept = 3.0e38;
  for (var v = first; v < p.V; v = v + step) {
    let l = logit(base + v);
    var greater = 0u;
    for (var w = 0u; w < p.V; w = w + 1u) {
      if (logit(base + w) > l) { greater = greater + 1u; }
    }
    if (greater < p.top_k) { lowest_kept = min(lowest_kept, l); }
  }
  return lowest_kept;
}

/** A logit and its index. */
struct Peak { value: f32, index: u32 }

/** The largest logit among v = first, first + step, …, at its first index. */
fn peak_part(base: u32, first: u32, step: u32) -> Peak {
  var best = Peak(-3.0e38, 0u);
  for (var v = first; v < p.V; v = v + step) {
    let l = logit(base + v);
    if (l > best.value) { best = Peak(l, v); }
  }
  return best;
}

/** The larger of two peaks; on a tie the lower index (the first one a scan in index order meets). */
fn higher_peak(a: Peak, b: Peak) -> Peak {
  if (b.value > a.value || (b.value == a.value && b.index < a.index)) { return b; }
  return a;
}

/** The token drawn for position `next` of sequence n, given the row's peak and, with top-k, the
 *  smallest kept logit. */
fn sample_from(base: u32, next: u32, n: u32, peak: Peak, lowest_kept: f32) -> u32 {
  var id = peak.index;
  if (p.temperature > 0.0) {
    let inv_t = 1.0 / p.temperature;
    let by_top_k = top_k_active();
    var total = 0.0;
    for (var v = 0u; v < p.V; v = v + 1u) {
      let l = logit(base + v);
      if (!by_top_k || l >= lowest_kept) { total = total + exp((l - peak.value) * inv_t); }
    }
    let goal = random_uniform(p.seed, p.stream, next, n) * total;
    var cum = 0.0;
    for (var v = 0u; v < p.V; v = v + 1u) {
      let l = logit(base + v);
      if (by_top_k && l < lowest_kept) { continue; }
      cum = cum + exp((l - peak.value) * inv_t);
      id = v;
      if (goal < cum) { break; }
    }
  }
  return id;
}

/** The token drawn for position `next` of sequence n from the logits at [base, base + V), by one invocation. */
fn sample_row(base: u32, next: u32, n: u32) -> u32 {
  var lowest_kept = -3.0e38;
  if (top_k_active()) { lowest_kept = kept_floor_part(base, 0u, 1u); }
  return sample_from(base, next, n, peak_part(base, 0u, 1u), lowest_kept);
}
