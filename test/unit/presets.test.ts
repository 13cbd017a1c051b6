// Every preset is a valid run: its config resolves and a trainer can be built from it.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { PRESETS, presetOf } from '../../src/lab/presets'
import { DEFAULT_RUN_CONFIG, resolveRunConfig } from '../../src/rl/config'
import { GRPOTrainer } from '../../src/rl/trainer'
import { shippedModel } from '../../src/model/shipped'
import { taskFor } from '../../src/tasks/registry'

describe('presets', () => {
  for (const p of PRESETS) {
    it(`${p.name} builds a trainer and is recognised back`, () => {
      // fresh weights here: the shipped base checkpoints are another test's business
      // (with the context of the shipped base the preset names, which its completion length needs)
      const shipped = p.values.base_model ? shippedModel(p.values.base_model) : undefined
      const config = resolveRunConfig({ ...p.values, base_model: '', ...(shipped ? { block_size: shipped.blockSize } : {}) })
      const trainer = GRPOTrainer.create(new CpuBackend('f32'), config, taskFor(config))
      trainer.destroy()
      expect(presetOf(resolveRunConfig(p.values), DEFAULT_RUN_CONFIG)?.id).toBe(p.id)
    })
  }
})
