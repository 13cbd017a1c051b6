// Many worksheets in one Node process, for python/tests/test_trl_loss.py: `grpo-lab worksheet`
// takes one input a call, and each call costs seconds of start-up on this machine. Each input goes
// through what that command runs (src/cli/main.ts worksheet: parseWorksheetInput, then
// computeWorksheet on the chosen backend), one backend for all of them.
//   node scripts/node-gpu.mjs python/tests/worksheets.ts cpu|webgpu INPUTS.json
// INPUTS.json: a JSON array of worksheet inputs. Prints a JSON array, one entry per input: the
// worksheet's output, or {"error": message} when the input was refused or the computation threw.
import { readFileSync } from 'node:fs'
import type { Backend } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { computeWorksheet, parseWorksheetInput } from '../../src/rl/worksheet'

async function backendNamed(name: string | undefined): Promise<Backend> {
  if (name === 'cpu') return new CpuBackend('f32')
  if (name === 'webgpu') {
    const { createNodeWebGPUBackend } = await import('../../src/engine/node')
    return createNodeWebGPUBackend()
  }
  throw new Error(`backend: got ${JSON.stringify(name)}; allowed: cpu, webgpu`)
}

async function run(): Promise<void> {
  const [backend, path] = process.argv.slice(2)
  const inputs: unknown = JSON.parse(readFileSync(path, 'utf8'))
  if (!Array.isArray(inputs)) throw new Error(`${path}: expected a JSON array of worksheet inputs`)
  const be = await backendNamed(backend)
  const outputs: unknown[] = []
  for (const input of inputs) {
    try {
      outputs.push(await computeWorksheet(be, parseWorksheetInput(input)))
    } catch (e) {
      outputs.push({ error: (e as Error).message })
    }
  }
  be.destroy()
  // Dawn may keep the process alive: leave once stdout has drained (src/cli/run.ts does the same)
  process.stdout.write(JSON.stringify(outputs) + '\n', () => process.exit(0))
}

run().catch((e) => {
  process.stderr.write(`worksheets.ts: ${(e as Error).stack ?? e}\n`)
  process.exit(1)
})
