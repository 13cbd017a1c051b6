// The GRPO loss of every objective TRL has (clip, cispo, sapo, vespo; token and sequence level;
// delta; the entropy mask; the entropy bonus) against central finite differences, in float64:
// dL/dlogp for all of them and dL/dentropy for the bonus. The ratios are placed away from the
// clip range's edges and the entropies away from the mask's threshold, where L is smooth.
import { describe, expect, it } from 'vitest'
import { type GrpoObjective, GRPO_STATS, GrpoStat, type Tensor } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { randomArray, upload, zeros } from '../helpers'

const be = new CpuBackend('f64')
const EPS = 1e-6
const TOL = 1e-6
const N = 4; const T = 5

async function lossOf(stats: Tensor): Promise<number> { return (await be.read(stats))[GrpoStat.loss] }

/** Compare an analytic gradient with (L(x+ε) − L(x−ε)) / 2ε for every element of x. A detached
 *  weight (cispo's, vespo's: a function of logp − logp_old that carries no gradient) is held still
 *  by moving `alongside` (logp_old) with x: then only what the gradient sees changes. */
async function checkGradient(what: string, x: Tensor, analytic: ArrayLike<number>, loss: () => Promise<number>,
  alongside?: Tensor): Promise<number> {
  const base = Float64Array.from(await be.read(x))
  const other = alongside ? Float64Array.from(await be.read(alongside)) : null
  const move = (i: number, by: number) => {
    const v = base.slice(); v[i] += by; be.write(x, v)
    if (other && alongside) { const w = other.slice(); w[i] += by; be.write(alongside, w) }
  }
  let worst = 0
  let largest = 0
  for (let i = 0; i < base.length; i++) {
    move(i, EPS)
    const lp = await loss()
    move(i, -EPS)
    const lm = await loss()
    const numeric = (lp - lm) / (2 * EPS)
    const err = Math.abs(numeric - analytic[i]) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[i]))
    worst = Math.max(worst, err)
    largest = Math.max(largest, Math.abs(analytic[i]))
    if (!(err < TOL)) throw new Error(`${what}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`)
  }
  be.write(x, base)
  if (other && alongside) be.write(alongside, other)
  return largest
}

function setup(objective: Partial<GrpoObjective>, beta: number) {
  const logpValues = randomArray(N * T, 70, 1).map((x) => -Math.abs(x) - 0.2)
  // log-ratios spread inside, below and above the clip range, away from its edges (±0.18, ±0.25)
  const shifts = [0, 0.5, -0.5, 0.05, -0.08]
  const oldValues = logpValues.map((v, i) => v + shifts[i % shifts.length] * (i % 3 === 0 ? 0.3 : 1))
  const logp = upload(be, logpValues)
  const oldLogp = upload(be, oldValues)
  const refLogp = upload(be, randomArray(N * T, 71, 1).map((x) => -Math.abs(x)))
  // entropies spaced apart so that a small step never crosses the entropy mask's threshold
  const entropy = upload(be, Array.from({ length: N * T }, (_, i) => 0.1 + ((i * 7) % (N * T)) * 0.05))
  const mask = upload(be, [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0])
  const advantages = upload(be, [0.8, -1.1, 0.3, -0.4]); const weights = upload(be, [1 / 9, 1 / 6, 1 / 12, 0.2])
  const dlogp = zeros(be, N * T); const dentropy = zeros(be, N * T)
  const tokenTerms = zeros(be, 3 * N * T); const stats = zeros(be, GRPO_STATS)
  const run = async () => {
    be.grpoLoss({ logp, oldLogp, refLogp, entropy, mask, advantages, weights, dlogp, dentropy, tokenTerms, stats,
      N, T, epsilonLow: 0.2, epsilonHigh: objective.kind === 'cispo' ? 1.3 : 0.28, beta, objective })
    return lossOf(stats)
  }
  return { logp, oldLogp, entropy, dlogp, dentropy, run }
}

const CASES: [string, Partial<GrpoObjective>, number][] = [
  ['clip, token level, β = 0.04', { kind: 'clip' }, 0.04],
  ['clip, token level, delta = 1.4', { kind: 'clip', delta: 1.4 }, 0],
  ['clip, sequence level (GSPO)', { kind: 'clip', sequenceLevel: true }, 0.04],
  ['clip, sequence level, delta = 1.1', { kind: 'clip', sequenceLevel: true, delta: 1.1 }, 0],
  ['cispo, token level', { kind: 'cispo' }, 0],
  ['cispo, sequence level', { kind: 'cispo', sequenceLevel: true }, 0.04],
  ['sapo, token level', { kind: 'sapo' }, 0],
  ['sapo, sequence level, β = 0.04', { kind: 'sapo', sequenceLevel: true }, 0.04],
  ['vespo', { kind: 'vespo' }, 0],
  ['clip, top 40 % entropy tokens', { kind: 'clip', topEntropyQuantile: 0.4 }, 0.04],
  ['sapo, sequence level, top 50 % entropy tokens', { kind: 'sapo', sequenceLevel: true, topEntropyQuantile: 0.5 }, 0],
  ['clip with an entropy bonus, accumulated over 2', { kind: 'clip', entropyCoef: 0.3, gradientAccumulationSteps: 2 }, 0],
]

describe('GRPO objectives: dL/dlogp against finite differences (float64)', () => {
  it.each(CASES)('%s', async (_name, objective, beta) => {
    const s = setup(objective, beta)
    await s.run()
    const detached = objective.kind === 'cispo' || objective.kind === 'vespo'
    const largest = await checkGradient('dlogp', s.logp, await be.read(s.dlogp), s.run, detached ? s.oldLogp : undefined)
    expect(largest).toBeGreaterThan(1e-3) // the case carries a gradient at all
  })

  it('the entropy bonus: dL/dentropy, with and without the entropy mask', async () => {
    for (const objective of [{ entropyCoef: 0.3 }, { entropyCoef: 0.5, topEntropyQuantile: 0.5, gradientAccumulationSteps: 3 }]) {
      const s = setup(objective, 0)
      await s.run()
      const largest = await checkGradient('dentropy', s.entropy, await be.read(s.dentropy), s.run)
      expect(largest).toBeGreaterThan(1e-3)
    }
  })
})
