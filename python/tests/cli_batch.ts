// Many `grpo-lab` commands in one Node process, for the Python tier (python/tests/test_trl_*.py):
// Node, tsx and the modules start once (seconds here) instead of once a command.
//   node scripts/node-gpu.mjs python/tests/cli_batch.ts ENTRIES.json
// ENTRIES.json: a JSON array; each entry is one of
//   ["worksheet", "--backend", "cpu", "--input", "a.json"]   a command's arguments: the CLI's own
//       main() (src/cli/main.ts) runs them, as bin/grpo-lab.mjs does, with stdout and stderr caught;
//   {"worksheets": "inputs.json", "backend": "cpu"|"webgpu"}   a JSON array of worksheet inputs,
//       each through what `grpo-lab worksheet` runs (parseWorksheetInput, computeWorksheet) on one
//       backend for all of them: a WebGPU device per command costs a third of a second on SwiftShader.
// Prints a JSON array, one result per entry: {"status", "stdout", "stderr"} for a command, and for
// worksheets an array of outputs, each {"error": message} where the input was refused or failed.
import { readFileSync } from 'node:fs'
import type { Backend } from '../../src/engine/backend'
import { CpuBackend } from '../../src/engine/cpu/cpuBackend'
import { main } from '../../src/cli/main'
import { computeWorksheet, parseWorksheetInput } from '../../src/rl/worksheet'

type Write = typeof process.stdout.write

/** main(argv) with stdout and stderr caught. */
async function command(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const realOut = process.stdout.write.bind(process.stdout)
  const realErr = process.stderr.write.bind(process.stderr)
  const catcher = (into: string[]): Write => ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined
    done?.()
    return true
  }) as Write
  process.stdout.write = catcher(out)
  process.stderr.write = catcher(err)
  try {
    const status = await main(argv)
    return { status, stdout: out.join(''), stderr: err.join('') }
  } finally {
    process.stdout.write = realOut
    process.stderr.write = realErr
  }
}

async function backendNamed(name: unknown): Promise<Backend> {
  if (name === 'cpu') return new CpuBackend('f32')
  if (name === 'webgpu') {
    const { createNodeWebGPUBackend } = await import('../../src/engine/node')
    return createNodeWebGPUBackend()
  }
  throw new Error(`backend: got ${JSON.stringify(name)}; allowed: cpu, webgpu`)
}

async function worksheets(path: string, backend: unknown): Promise<unknown[]> {
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
  return outputs
}

async function run(): Promise<void> {
  const path = process.argv[2]
  const entries: unknown = JSON.parse(readFileSync(path, 'utf8'))
  if (!Array.isArray(entries)) throw new Error(`${path}: expected a JSON array of entries`)
  const results: unknown[] = []
  for (const [i, entry] of entries.entries()) {
    if (Array.isArray(entry) && entry.every((a) => typeof a === 'string')) results.push(await command(entry))
    else if (typeof entry === 'object' && entry !== null && typeof entry.worksheets === 'string') results.push(await worksheets(entry.worksheets, entry.backend))
    else throw new Error(`${path}[${i}]: expected an argument list (strings) or {"worksheets": FILE, "backend": NAME}`)
  }
  // Dawn may keep the process alive: leave once stdout has drained (src/cli/run.ts does the same)
  process.stdout.write(JSON.stringify(results) + '\n', () => process.exit(0))
}

run().catch((e) => {
  process.stderr.write(`cli_batch.ts: ${(e as Error).stack ?? e}\n`)
  process.exit(1)
})
