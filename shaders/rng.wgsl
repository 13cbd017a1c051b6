// Counter-based randomness, bit-identical to src/engine/rng.ts.

// lowbias32: a bijective 32-bit mixer.
fn hash32(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

fn random_bits(seed: u32, stream: u32, a: u32, b: u32) -> u32 {
  var h = hash32(seed ^ 0x9e3779b9u);
  h = hash32(h ^ stream);
  h = hash32(h + a * 0x85ebca6bu);
  h = hash32(h ^ (b * 0xc2b2ae35u));
  return h;
}

// Uniform in [0, 1) with 24 bits, exact in f32.
fn random_uniform(seed: u32, stream: u32, a: u32, b: u32) -> f32 {
  return f32(random_bits(seed, stream, a, b) >> 8u) / 16777216.0;
}
