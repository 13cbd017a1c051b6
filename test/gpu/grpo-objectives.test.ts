// Tier 2: the GRPO loss kernels of every objective, and GDPO's advantages, against their CPU
// twins on the same inputs (float32 both; 1e-5 absolute + 1e-4 relative, flags identical in
// effect). The N > 64 sequences exercise the single-workgroup reductions' striding.
import { describe, it } from 'vitest'
import type { Backend, GrpoObjective, Tensor } from '../../src/engine/backend'
import { GRPO_STATS } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { expectClose, randomArray, randomInts, upload, useGpu, zeros } from '../helpers'

const gpu = useGpu()
const cpu = new CpuBackend('f32')

async function twin(name: string, run: (be: Backend) => Tensor[]): Promise<void> {
  const expected = run(cpu)
  const actual = run(gpu())
  for (let i = 0; i < expected.length; i++) {
    expectClose(await gpu().read(actual[i]), await cpu.read(expected[i]), 1e-5, 1e-4, `${name} output ${i}`)
  }
}

const CASES: [string, Partial<GrpoObjective>][] = [
  ['clip, delta = 1.5', { kind: 'clip', delta: 1.5 }],
  ['clip, sequence level (GSPO)', { kind: 'clip', sequenceLevel: true }],
  ['cispo', { kind: 'cispo' }],
  ['sapo, sequence level', { kind: 'sapo', sequenceLevel: true }],
  ['vespo', { kind: 'vespo' }],
  ['clip, top 20 % entropy, entropy bonus', { kind: 'clip', topEntropyQuantile: 0.2, entropyCoef: 0.1, gradientAccumulationSteps: 2 }],
]

describe('GRPO objectives: WGSL kernels match their CPU twins', () => {
  it.each(CASES)('%s', async (name, objective) => {
    const N = 70; const T = 9
    await twin(name, (be) => {
      const logp = upload(be, randomArray(N * T, 81, 2).map((x) => -Math.abs(x)))
      const oldLogp = upload(be, randomArray(N * T, 82, 2).map((x) => -Math.abs(x)))
      const refLogp = upload(be, randomArray(N * T, 83, 2).map((x) => -Math.abs(x)))
      const entropy = upload(be, randomArray(N * T, 84).map(Math.abs))
      const mask = upload(be, randomInts(N * T, 85, 2))
      const advantages = upload(be, randomArray(N, 86, 1.5)); const weights = upload(be, randomArray(N, 87, 0.01).map(Math.abs))
      const dlogp = zeros(be, N * T); const dentropy = zeros(be, N * T)
      const tokenTerms = zeros(be, 3 * N * T); const stats = zeros(be, GRPO_STATS)
      be.grpoLoss({ logp, oldLogp, refLogp, entropy, mask, advantages, weights, dlogp, dentropy, tokenTerms, stats,
        N, T, epsilonLow: 0.2, epsilonHigh: objective.kind === 'cispo' ? 2 : 0.28, beta: 0.04, objective })
      return [dlogp, dentropy, tokenTerms, stats]
    })
  })

  it('GDPO advantages (normalize_then_sum), three reward functions', async () => {
    const numGroups = 5; const G = 4; const K = 3
    await twin('gdpo', (be) => {
      const perFunc = Array.from(randomArray(numGroups * G * K, 88)).map((x) => Math.round(x * 2) / 2)
      const advantages = zeros(be, numGroups * G); const std = zeros(be, numGroups * G); const zeroStdGroups = zeros(be, numGroups)
      be.advantages({ rewards: zeros(be, numGroups * G), advantages, std, zeroStdGroups, numGroups, G, scale: 'group',
        aggregation: 'normalize_then_sum', rewardsPerFunc: upload(be, perFunc), rewardWeights: upload(be, [1, 0.5, 2]), K })
      return [advantages, std, zeroStdGroups]
    })
  })
})
