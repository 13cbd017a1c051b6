// Writes README.md's GRPOConfig table (between its markers) from the mapping in src/export/trl.ts;
// test/unit/trl-export.test.ts fails when the README's copy is not what this writes.
// Usage: node --import tsx scripts/trl-readme.ts
import { readFileSync, writeFileSync } from 'node:fs'
import { withGrpoConfigTable } from '../src/export/trl'

const readme = readFileSync('README.md', 'utf8')
const updated = withGrpoConfigTable(readme)
writeFileSync('README.md', updated)
console.log(updated === readme ? 'README.md: the GRPOConfig table was current' : 'README.md: the GRPOConfig table is rewritten')
