// The Python peers of the CPU benchmark, as Node sees them: bench/python/torch_peer.py (PyTorch's
// train step and rollout) and bench/python/trl_peer.py (TRL's whole GRPO step), each a child
// process speaking one JSON object a line. The interpreter is the venv of scripts/python-env.mjs
// (torch, transformers, trl pinned in python/requirements.txt); without one the bench fails,
// saying what is missing — the CPU peers are never skipped.
import { type ChildProcess, spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensurePythonEnv } from '../scripts/python-env.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const TORCH_PEER = join(HERE, 'python/torch_peer.py')
const TRL_PEER = join(HERE, 'python/trl_peer.py')
/** characters of a peer's stderr kept to explain its failure */
const STDERR_TAIL = 4000

type Json = Record<string, unknown>

/** The venv's python, or an error that says what is missing and how to get it. */
export function benchPython(log: (line: string) => void): string {
  try {
    return ensurePythonEnv(log)
  } catch (e) {
    throw new Error(`the CPU peers (PyTorch, TRL) need the Python of python/requirements.txt: ${(e as Error).message}. ` +
      '(`npm run bench -- --no-cpu` runs the WebGPU part alone.)')
  }
}

/** A child process whose stdout is JSON lines; stderr is kept (its tail) for error messages. */
class JsonLines {
  private readonly queue: Json[] = []
  private readonly waiting: ((m: Json | null) => void)[] = []
  private buffer = ''
  private exited = false
  stderrTail = ''
  readonly child: ChildProcess

  constructor(readonly name: string, python: string, args: string[], env: Record<string, string>) {
    this.child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1', ...env } })
    this.child.stdout!.setEncoding('utf8')
    this.child.stdout!.on('data', (d: string) => {
      this.buffer += d
      let nl: number
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim()
        this.buffer = this.buffer.slice(nl + 1)
        if (line) this.push(JSON.parse(line) as Json)
      }
    })
    this.child.stderr!.setEncoding('utf8')
    this.child.stderr!.on('data', (d: string) => { this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL) })
    this.child.on('close', () => { this.exited = true; while (this.waiting.length) this.waiting.shift()!(null) })
    this.child.on('error', (e) => { this.stderrTail += `\n${e.message}`; this.exited = true; while (this.waiting.length) this.waiting.shift()!(null) })
  }

  private push(m: Json): void {
    const w = this.waiting.shift()
    if (w) w(m); else this.queue.push(m)
  }

  /** The next message; a peer that exits instead is an error quoting its stderr. */
  async next(): Promise<Json> {
    const m = this.queue.shift() ?? (this.exited ? null : await new Promise<Json | null>((ok) => this.waiting.push(ok)))
    if (m === null) throw new Error(`${this.name} exited (status ${this.child.exitCode}) before answering; its stderr ends:\n${this.stderrTail}`)
    return m
  }

  send(line: string): void { this.child.stdin!.write(line + '\n') }

  async exit(): Promise<void> {
    if (!this.exited) await new Promise<void>((ok) => this.child.once('close', () => ok()))
  }

  kill(): void { if (!this.exited) this.child.kill() }
}

/** What one timed command of a peer answers. */
export interface PeerTimed extends Json { ms: number; threads: number }

export class TorchPeer {
  private constructor(private readonly p: JsonLines, readonly versions: { torch: string; transformers: string }) {}

  /** `env`: e.g. OMP_WAIT_POLICY, which OpenMP reads once, when it starts */
  static async start(python: string, env: Record<string, string>): Promise<TorchPeer> {
    const p = new JsonLines(`PyTorch peer (bench/python/torch_peer.py${Object.keys(env).length ? `, ${JSON.stringify(env)}` : ''})`, python, [TORCH_PEER], env)
    const hello = await p.next()
    return new TorchPeer(p, { torch: String(hello.torch), transformers: String(hello.transformers) })
  }

  private async call(cmd: Json): Promise<PeerTimed> {
    this.p.send(JSON.stringify(cmd))
    const r = await this.p.next()
    if (!r.ok) throw new Error(`PyTorch peer, ${String(cmd.cmd)}: ${String(r.error)}`)
    return r as PeerTimed
  }

  /** A model folder (Hugging Face gpt2) and the GRPO batch it trains on. */
  load(args: Json): Promise<PeerTimed> { return this.call({ cmd: 'load', ...args }) }
  trainStep(threads: number): Promise<PeerTimed> { return this.call({ cmd: 'train_step', threads }) }
  rollout(threads: number, prompts: number[][], newTokens: number, seed: number, mode: 'loop' | 'generate'): Promise<PeerTimed> {
    return this.call({ cmd: 'rollout', threads, prompts, new_tokens: newTokens, seed, mode })
  }

  async close(): Promise<void> {
    this.p.send(JSON.stringify({ cmd: 'quit' }))
    await this.p.exit()
  }

  kill(): void { this.p.kill() }
}

/** TRL's GRPOTrainer running the exported project's train.py, one optimizer step per turn. */
export class TrlPeer {
  /** TRL's logged metrics of each step (its own step_time among them) */
  readonly logs: Json[] = []
  private ready = false
  private constructor(private readonly p: JsonLines, readonly versions: { trl: string; torch: string }, readonly threads: number) {}

  static async start(python: string, project: string, threads: number, steps: number, outputDir: string, env: Record<string, string>): Promise<TrlPeer> {
    const p = new JsonLines(`TRL peer (bench/python/trl_peer.py, ${threads} threads${Object.keys(env).length ? `, ${JSON.stringify(env)}` : ''})`, python,
      [TRL_PEER, project, '--threads', String(threads), '--steps', String(steps), '--output_dir', outputDir], env)
    const hello = await p.next()
    if (hello.event !== 'start') throw new Error(`TRL peer: expected its start message, got ${JSON.stringify(hello)}`)
    const peer = new TrlPeer(p, { trl: String(hello.trl), torch: String(hello.torch) }, Number(hello.threads))
    await peer.untilReady()
    return peer
  }

  /** Read up to the next step's "ready" (trainer built, previous step logged). */
  private async untilReady(): Promise<void> {
    while (!this.ready) {
      const m = await this.p.next()
      if (m.event === 'log') this.logs.push(m)
      else if (m.event === 'ready') this.ready = true
      else throw new Error(`TRL peer: expected the next step, got ${JSON.stringify(m)}`)
    }
  }

  /** One optimizer step, timed by the peer (Trainer's on_step_begin → on_step_end). */
  async step(): Promise<PeerTimed> {
    await this.untilReady()
    this.ready = false
    this.p.send('go')
    const m = await this.p.next()
    if (m.event !== 'step') throw new Error(`TRL peer: expected a step's time, got ${JSON.stringify(m)}`)
    return m as PeerTimed
  }

  /** After the last step: train.py's evaluation and save, then its exit. */
  async finish(): Promise<void> {
    for (;;) {
      const m = await this.p.next()
      if (m.event === 'log') this.logs.push(m)
      else if (m.event === 'done') break
      else throw new Error(`TRL peer: expected the end of the run, got ${JSON.stringify(m)}`)
    }
    await this.p.exit()
  }

  kill(): void { this.p.kill() }
}
