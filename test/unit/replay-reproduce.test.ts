// A live run of a shipped replay's config on the backend it was recorded on (the page's CPU
// backend: fast CPU, relaxed FMA) gives its numbers bit for bit: every metric but the clock,
// every kept trace, every evaluation and the worksheet's log-probs. The echo replay whole; the
// others their first steps (a step of the addition presets takes about a second on one core).
// The steps are taken as the page's worker takes them (trainStep, then an evaluation every
// eval_every steps), here written out again rather than through the recorder.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { backendLabel, pageCpuBackend } from '../../src/cli/record'
import { completionLogprobs } from '../../src/lab/groupLogprobs'
import { parseReplay, SHIPPED_REPLAYS } from '../../src/lab/replay'
import { checkpointFromBytes } from '../../src/model/hfFolder'
import { GRPOTrainer, type Metrics } from '../../src/rl/trainer'
import { taskFor } from '../../src/tasks/registry'

const withoutClock = ({ step_time: _, ...rest }: Metrics) => rest

/** steps re-run per replay: echo whole, the slow presets' first two */
const stepsOf = (id: string, recorded: number) => (id === 'echo' ? recorded : Math.min(2, recorded))

describe('a shipped replay is reproduced by a live run on its backend', () => {
  it.each([...SHIPPED_REPLAYS])('%s', { timeout: 120_000 }, async (id) => {
    const replay = parseReplay(readFileSync(`public/replays/${id}.json`, 'utf8'))
    const config = replay.run.config
    const base = config.base_model ? checkpointFromBytes(new Uint8Array(readFileSync(`public/models/${config.base_model}.safetensors`))) : undefined
    const be = await pageCpuBackend(1)
    expect(backendLabel(be)).toBe(replay.backend.label)
    const trainer = GRPOTrainer.create(be, config, taskFor(config), base)
    try {
      const steps = stepsOf(id, replay.steps)
      for (let s = 0; s < steps; s++) {
        const { metrics, trace } = await trainer.trainStep()
        const step = trainer.step
        expect(withoutClock(metrics), `step ${step}'s metrics`).toEqual(withoutClock(replay.run.metrics[s]))
        if (config.eval_every > 0 && step % config.eval_every === 0) {
          expect(await trainer.evaluate(), `step ${step}'s evaluation`).toEqual(replay.run.evals.find((e) => e.step === step)?.metrics)
        }
        const kept = replay.run.traces.find((t) => t.step === step)
        if (!kept) continue
        expect(trace, `step ${step}'s trace`).toEqual(kept)
        for (const w of replay.worksheet.filter((x) => x.step === step)) {
          const g = trace.groups[w.group]
          const logp = await completionLogprobs(trainer.model, trainer.tokenizer, g.prompt, g.completions.map((c) => c.text), config.temperature)
          // the replay writes each float32 in its fewest digits: read back, the same float32
          expect(w.logp.map((r) => r.map(Math.fround)), `step ${step} group ${w.group}'s log-probs`).toEqual(logp)
        }
      }
    } finally {
      trainer.destroy()
      be.destroy()
    }
  })
})
