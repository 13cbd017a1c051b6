// Runs the grpo-lab command in this process and captures what it prints (stdout and stderr).
import { main } from '../../src/cli/main'

export async function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const write = { out: process.stdout.write, err: process.stderr.write }
  process.stdout.write = ((chunk: string | Uint8Array) => { out.push(String(chunk)); return true }) as typeof process.stdout.write
  process.stderr.write = ((chunk: string | Uint8Array) => { err.push(String(chunk)); return true }) as typeof process.stderr.write
  try {
    const status = await main(args)
    return { status, stdout: out.join(''), stderr: err.join('') }
  } finally {
    process.stdout.write = write.out
    process.stderr.write = write.err
  }
}

/** The command's JSON output; fails with its stderr when it did not succeed. */
export async function cliJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  const r = await runCli(args)
  if (r.status !== 0) throw new Error(`grpo-lab ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
