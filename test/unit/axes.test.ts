// Chart tick labels: as many decimals as the spacing needs, no "-0", exponents for float dust.
import { describe, expect, it } from 'vitest'
import { tickLabels } from '../../src/ui/charts/axes'

describe('chart tick labels', () => {
  it('writes the spacing exactly', () => {
    expect(tickLabels([0, 0.25, 0.5, 0.75, 1])).toEqual(['0.00', '0.25', '0.50', '0.75', '1.00'])
    expect(tickLabels([0, 20, 40])).toEqual(['0', '20', '40'])
    expect(tickLabels([0.0045, 0.005, 0.0055])).toEqual(['0.0045', '0.0050', '0.0055'])
    expect(tickLabels([-0.01, 0, 0.01])).toEqual(['-0.01', '0.00', '0.01'])
  })
  it('uses exponents for tiny spacings and never writes -0', () => {
    expect(tickLabels([-2e-8, 0, 2e-8])).toEqual(['-2.0e-8', '0', '2.0e-8'])
    expect(tickLabels([-1e-17, 0.5, 1])).not.toContain('-0.0')
  })
})
