// The per-token pieces of TRL's GRPO objectives, for the CPU twin of shaders/grpo_loss.wgsl
// (the kernel has the same functions, by the same names). c1 is TRL's coef_1: the importance
// ratio exp(logp − logp_old) of a token, or of a whole sequence (GSPO's mean log-ratio).
import type { GrpoObjective } from '../backend'

/** The sentinel of an empty min / max (a float32 that is still finite). */
export const BIG = Math.fround(3e38)

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
const sapoTemperature = (A: number, o: GrpoObjective) => (A > 0 ? o.sapoTemperaturePos : o.sapoTemperatureNeg)
/** Two-sided clipping (delta) of the clip family's unclipped branch. */
const capped = (c1: number, o: GrpoObjective) => (o.delta > 0 ? Math.min(c1, o.delta) : c1)

/** TRL's per_token_loss (before the entropy mask, the KL term and aggregation). */
export function perTokenLoss(c1: number, A: number, logp: number, phi: number, eL: number, eH: number, o: GrpoObjective): number {
  switch (o.kind) {
    case 'clip': return -Math.min(capped(c1, o) * A, Math.min(Math.max(c1, 1 - eL), 1 + eH) * A)
    case 'cispo': return -Math.min(c1, eH) * A * logp
    case 'sapo': { const tau = sapoTemperature(A, o); return -sigmoid(tau * (c1 - 1)) * (4 / tau) * A }
    case 'vespo': return -phi * A * logp
  }
}

/** ∂ per_token_loss / ∂ log c1: the gradient that flows through the importance ratio. torch's
 *  min sends half to each side on a tie; clamp passes the gradient on its closed interval. */
export function ratioGrad(c1: number, A: number, eL: number, eH: number, o: GrpoObjective): number {
  if (o.kind === 'clip') {
    const a = capped(c1, o) * A
    const b = Math.min(Math.max(c1, 1 - eL), 1 + eH) * A
    const throughA = o.delta === 0 || c1 <= o.delta ? 1 : 0
    const throughB = c1 >= 1 - eL && c1 <= 1 + eH ? 1 : 0
    const toA = a < b ? 1 : a > b ? 0 : 0.5
    return -A * (toA * throughA + (1 - toA) * throughB) * c1
  }
  if (o.kind === 'sapo') {
    const sg = sigmoid(sapoTemperature(A, o) * (c1 - 1))
    return -4 * A * sg * (1 - sg) * c1
  }
  return 0 // cispo and vespo detach their weights
}

/** ∂ per_token_loss / ∂ logp through logp itself (cispo, vespo: −sg[weight]·A·logp). */
export function directGrad(c1: number, A: number, phi: number, eH: number, o: GrpoObjective): number {
  if (o.kind === 'cispo') return -Math.min(c1, eH) * A
  if (o.kind === 'vespo') return -phi * A
  return 0
}

/** −1 low-clipped, +1 high-clipped, 0 neither (TRL's is_low_clipped / is_high_clipped on the
 *  delta-capped ratio); cispo: +1 where the IS weight hit its cap ε_high with A > 0. */
export function clipCode(c1: number, A: number, eL: number, eH: number, o: GrpoObjective): number {
  if (o.kind === 'cispo') return c1 > eH && A > 0 ? 1 : 0
  if (o.kind !== 'clip') return 0
  const c = capped(c1, o)
  return c < 1 - eL && A < 0 ? -1 : c > 1 + eH && A > 0 ? 1 : 0
}

/** VESPO's gamma weight φ(w) = e^{λ + k·log w − λ·w}, w the sequence's ratio from the sum of its
 *  clamped token log-ratios; 0 for other objectives (and where it is not finite, as TRL). */
export function vespoPhi(A: number, clampedLogRatioSum: number, o: GrpoObjective): number {
  if (o.kind !== 'vespo') return 0
  const logW = Math.min(Math.max(clampedLogRatioSum, Math.log(1e-8)), 20)
  const nonneg = A >= 0
  const k = nonneg ? o.vespoKPos : o.vespoKNeg
  const lambda = Math.max(nonneg ? o.vespoLambdaPos : o.vespoLambdaNeg, 1e-4)
  const phi = Math.exp(lambda + k * logW - lambda * Math.exp(logW))
  return Number.isFinite(phi) ? phi : 0
}

/** torch.quantile(sorted, q) with linear interpolation, in float32 as torch computes it for a
 *  float32 tensor (q is cast to float32; lerp as ATen writes it). */
export function torchQuantile(sorted: readonly number[], q: number): number {
  const f = Math.fround
  const rank = f(f(q) * (sorted.length - 1))
  const below = Math.floor(rank); const above = Math.ceil(rank)
  const weight = f(rank - below)
  const lo = sorted[below]; const hi = sorted[above]
  return weight < 0.5 ? f(lo + f(weight * f(hi - lo))) : f(hi - f(f(hi - lo) * f(1 - weight)))
}
