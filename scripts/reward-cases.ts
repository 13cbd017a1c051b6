// Writes the lab's scores of random completions for every task, for the Python tier to score the
// exported rewards.py on the same completions (python/tests/test_trl_project.py).
// Usage: node --import tsx scripts/reward-cases.ts OUT_DIR [N_PER_TASK]
//   OUT_DIR/<task>.jsonl  one case per line: kind, row (the dataset columns), completion, scores, total, correct
//   OUT_DIR/overlong.jsonl DAPO's soft overlong punishment of the lab, per length
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TASK_IDS } from '../src/tasks/registry'
import { overlongCases, rewardCases } from '../test/fixtures/rewardCases'

const [out, n = '3000'] = process.argv.slice(2)
if (!out || !/^[1-9][0-9]*$/.test(n)) { console.error('usage: reward-cases.ts OUT_DIR [N_PER_TASK]'); process.exit(2) }
mkdirSync(out, { recursive: true })
const lines = (rows: unknown[]) => rows.map((x) => JSON.stringify(x)).join('\n') + '\n'
for (const task of TASK_IDS) writeFileSync(join(out, `${task}.jsonl`), lines(rewardCases(task, Number(n))))
writeFileSync(join(out, 'overlong.jsonl'), lines(overlongCases()))
