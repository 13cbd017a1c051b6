// Axis tick labels for the charts: pure, so that they can be unit-tested without a DOM.

/** Tick labels with as many decimals as the tick spacing needs (no "-0" on small ranges). */
export function tickLabels(splits: number[]): string[] {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1
  // tiny spacings (a loss of float dust): exponent notation
  if (step < 1e-4) return splits.map((v) => (v === 0 ? '0' : v.toExponential(1)))
  // the fewest decimals that write the tick spacing exactly (0.25 → 2, 0.5 → 1, 20 → 0)
  let decimals = 0
  for (;;) {
    const v = step * 10 ** decimals
    if (decimals >= 8 || (v >= 0.999 && Math.abs(Math.round(v) - v) < 1e-6 * v)) break
    decimals++
  }
  return splits.map((v) => {
    const t = v.toFixed(decimals)
    return /^-0(\.0*)?$/.test(t) ? t.slice(1) : t
  })
}
