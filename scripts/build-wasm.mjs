// Builds the fast CPU backend's WebAssembly kernels (src/engine/cpu/assembly/kernels.ts) with
// AssemblyScript, the npm devDependency: four variants, {shared, unshared} memory × {SIMD,
// SIMD + relaxed SIMD}, into src/engine/cpu/assembly/build/ (git-ignored). Shared memory is what
// threads need; the unshared build serves a page that is not cross-origin isolated (one thread).
// Relaxed SIMD brings a fused multiply-add where the engine has it.
//
// Skips the build when a stamp of the sources, this script and the compiler's version matches.
// Called by `npm test` (scripts/test.mjs), by Vite (vite.config.ts) and, when the binaries are
// missing or stale, by the Node loader (src/engine/cpu/fastCpuNode.ts). `node scripts/build-wasm.mjs`
// builds by hand (--force: even when up to date).
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const WASM_SOURCE_DIR = join(ROOT, 'src/engine/cpu/assembly')
export const WASM_BUILD_DIR = join(WASM_SOURCE_DIR, 'build')
const ENTRY = join(WASM_SOURCE_DIR, 'kernels.ts')
const STAMP = join(WASM_BUILD_DIR, 'stamp.json')

/** 64 Ki pages: 4 GiB, all a 32-bit memory can address; the host asks for less when that fails. */
export const MAX_PAGES = 65536

export const VARIANTS = [
  { name: 'kernels-shared', shared: true, relaxed: false },
  { name: 'kernels-shared-relaxed', shared: true, relaxed: true },
  { name: 'kernels', shared: false, relaxed: false },
  { name: 'kernels-relaxed', shared: false, relaxed: true },
]

function stampOf() {
  const h = createHash('sha256')
  h.update(readFileSync(fileURLToPath(import.meta.url)))
  for (const f of readdirSync(WASM_SOURCE_DIR).filter((f) => f.endsWith('.ts')).sort()) {
    h.update(f)
    h.update(readFileSync(join(WASM_SOURCE_DIR, f)))
  }
  h.update(JSON.parse(readFileSync(join(ROOT, 'node_modules/assemblyscript/package.json'), 'utf8')).version)
  return h.digest('hex')
}

/** True when the binaries match the sources. */
export function wasmUpToDate() {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, 'utf8'))
    return stamp.hash === stampOf() && VARIANTS.every((v) => readFileSync(join(WASM_BUILD_DIR, `${v.name}.wasm`)).length > 0)
  } catch {
    return false
  }
}

function argsOf(v, outFile) {
  const args = [ENTRY, '--outFile', outFile, '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
    '--importMemory', '--initialMemory', '1', '--maximumMemory', String(MAX_PAGES), '--enable', 'simd']
  if (v.shared) args.push('--sharedMemory', '--enable', 'threads')
  if (v.relaxed) args.push('--enable', 'relaxed-simd')
  return args
}

/** Build what is stale; `log` gets one line per variant built. Returns whether it built. */
export async function buildWasm({ force = false, log = () => {} } = {}) {
  if (!force && wasmUpToDate()) return false
  const { default: asc } = await import('assemblyscript/asc')
  mkdirSync(WASM_BUILD_DIR, { recursive: true })
  const hash = stampOf()
  for (const v of VARIANTS) {
    const out = join(WASM_BUILD_DIR, `${v.name}.wasm`)
    // written beside and renamed: a test worker reading it meanwhile never sees half a file
    const partial = `${out}.${process.pid}.tmp`
    let stderr = ''
    const r = await asc.main(argsOf(v, partial), { stdout: { write() {} }, stderr: { write(s) { stderr += s } } })
    if (r.error) throw new Error(`AssemblyScript failed on ${v.name}: ${r.error.message}\n${stderr}`)
    renameSync(partial, out)
    log(`[wasm] built ${join('src/engine/cpu/assembly/build', `${v.name}.wasm`)}`)
  }
  const stampPartial = `${STAMP}.${process.pid}.tmp`
  writeFileSync(stampPartial, JSON.stringify({ hash }) + '\n')
  renameSync(stampPartial, STAMP)
  return true
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildWasm({ force: process.argv.includes('--force'), log: console.log })
    .then((built) => { if (!built) console.log('[wasm] up to date') })
    .catch((e) => { console.error(e.message); process.exit(1) })
}

