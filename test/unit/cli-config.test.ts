// grpo-lab train with a configuration that breaks a cross-key rule: one line naming the key the
// file (or link) set, exit status 2 — the same resolver, and the same key, as the page's.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const BIN = join(__dirname, '../../bin/grpo-lab.mjs')
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' })

describe('grpo-lab train: conflicting keys', () => {
  it('--config: one line naming the key the file set (not n_head, which it did not), exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-'))
    const file = join(dir, 'run.json')
    writeFileSync(file, JSON.stringify({ task: 'echo', n_embd: 98, gradient_accumulation_steps: 9 }))
    const r = cli('train', '--config', file, '--backend', 'cpu', '--out', join(dir, 'out'))
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(`grpo-lab train: --config: ${file}: n_embd: n_head = 4 does not divide n_embd = 98; allowed: a multiple of n_head = 4 from 8 to 512\n`)
  })

  it('--link: the first refused key, in one line, exit 2', () => {
    const r = cli('train', '--link', '#v=1&max_completion_length=100', '--backend', 'cpu', '--out', join(tmpdir(), 'grpo-lab-unused'))
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^grpo-lab train: --link: max_completion_length: .* needs 116 positions: more than the context of base model addition = 96; allowed: an integer from 1 to 80\n$/)
  })
})

describe('grpo-lab pretrain: --countdown-corpus', () => {
  it('an unknown corpus: one line listing the four, exit 2', () => {
    const r = cli('pretrain', '--task', 'countdown', '--countdown-corpus', 'sideways', '--steps', '1', '--backend', 'cpu')
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('grpo-lab pretrain: --countdown-corpus: got "sideways"; allowed: forward, backward, reachable, shuffled (default forward)\n')
  })

  it('a room for the forward corpus, which has none: refused, naming the three that have one', () => {
    const r = cli('pretrain', '--task', 'countdown', '--countdown-corpus', 'forward', '--countdown-room', '128', '--steps', '1', '--backend', 'cpu')
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('grpo-lab pretrain: --countdown-room: only with --countdown-corpus backward, reachable or shuffled\n')
  })
})
