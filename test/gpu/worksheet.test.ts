// The worksheet's two backends (WGSL kernels and their CPU twins) agree to 1e-5.
import { describe, expect, it } from 'vitest'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { computeWorksheet, parseWorksheetInput } from '../../src/rl/worksheet'
import { GRPO_CASES } from '../fixtures/grpoCases'
import { useGpu } from '../helpers'

const gpu = useGpu()

const near = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-5)

describe('worksheet: WebGPU = CPU to 1e-5', () => {
  for (const [name, c] of Object.entries(GRPO_CASES)) {
    it(name, async () => {
      const input = () => parseWorksheetInput(JSON.parse(JSON.stringify(c.input)))
      const cpu = await computeWorksheet(new CpuBackend('f32'), input())
      const web = await computeWorksheet(gpu(), input())
      // every output has one entry per completion and per token of the input, on both backends
      const tokens = c.input.groups.flatMap((g) => g.completions.map((comp) => comp.logp.length))
      for (const out of [cpu, web]) {
        expect(out.advantages).toHaveLength(tokens.length)
        expect(out.completions.map((comp) => [comp.objective.length, comp.kl.length, comp.grad.length, comp.clip.length]))
          .toEqual(tokens.map((n) => [n, n, n, n]))
      }
      expect(Object.keys(web.metrics)).toEqual(Object.keys(cpu.metrics))
      expect(Object.keys(cpu.metrics).length).toBeGreaterThan(0)
      web.advantages.forEach((a, i) => near(a, cpu.advantages[i]))
      near(web.loss, cpu.loss)
      for (const k of Object.keys(cpu.metrics) as (keyof typeof cpu.metrics)[]) near(web.metrics[k], cpu.metrics[k])
      web.completions.forEach((comp, i) => {
        comp.objective.forEach((o, t) => near(o, cpu.completions[i].objective[t]))
        comp.kl.forEach((o, t) => near(o, cpu.completions[i].kl[t]))
        comp.grad.forEach((o, t) => near(o, cpu.completions[i].grad[t]))
        expect(comp.clip).toEqual(cpu.completions[i].clip)
      })
    })
  }
})
