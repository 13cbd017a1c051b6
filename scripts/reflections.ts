// Reflection in an addition run's traces: steps followed by " wait " and the same column again.
// A correction is a re-done step whose first sum was wrong and whose second is right; a re-check
// repeats the same sum. Prints counts per 50 steps and the first corrected traces that end right.
// Usage: node --import tsx scripts/reflections.ts runs/demo-addition/traces.jsonl
import { readFileSync } from 'node:fs'
import type { TraceRecord } from '../src/rl/trainer'

const [input] = process.argv.slice(2)
if (!input) { console.error('usage: reflections.ts TRACES.jsonl'); process.exit(2) }

const STEP_THEN_WAIT = /(\d)\+(\d)(\+1)?=(\d+)(?: c1)? wait (\d)\+(\d)(\+1)?=(\d+)/g
const buckets = new Map<number, { rollouts: number; withWait: number; corrections: number; rechecks: number }>()
const examples: string[] = []
for (const line of readFileSync(input, 'utf8').trim().split('\n')) {
  const r = JSON.parse(line) as TraceRecord
  const key = Math.floor((r.step - 1) / 50) * 50 + 1
  const b = buckets.get(key) ?? { rollouts: 0, withWait: 0, corrections: 0, rechecks: 0 }
  buckets.set(key, b)
  for (const g of r.groups) {
    for (const c of g.completions) {
      b.rollouts++
      if (c.text.includes(' wait ')) b.withWait++
      for (const m of c.text.matchAll(STEP_THEN_WAIT)) {
        const [, x1, y1, c1, s1, x2, y2, c2, s2] = m
        if (x1 !== x2 || y1 !== y2 || c1 !== c2) continue // not the same column again
        const right = Number(x2) + Number(y2) + (c2 ? 1 : 0)
        if (s1 === s2) b.rechecks++
        else if (Number(s2) === right) {
          b.corrections++
          if (c.correct && examples.length < 5) examples.push(`step ${r.step}: ${g.prompt}${c.text}`)
        }
      }
    }
  }
}
console.log('steps      rollouts  with "wait"  corrections  re-checks')
for (const [k, b] of [...buckets].sort((a, c) => a[0] - c[0])) {
  console.log(`${String(k).padStart(4)}–${String(k + 49).padEnd(4)} ${String(b.rollouts).padStart(9)} ${String(b.withWait).padStart(12)} ${String(b.corrections).padStart(12)} ${String(b.rechecks).padStart(10)}`)
}
console.log('\ncorrected slips in completions that end with the right answer:')
for (const e of examples) console.log('  ' + e)
