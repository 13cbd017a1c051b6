// The Python of the Python test tier: a virtual environment at .venv-python/ holding exactly the
// pins of python/requirements.txt. Made (or remade) when it is missing or the requirements have
// changed since it was made (a stamp file records their hash); otherwise a no-op. It never skips:
// when Python, venv or a package is missing it fails, saying what is missing and how to get it.
//   node scripts/python-env.mjs      → prints the venv's python, exit 1 with the reason otherwise
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const VENV = join(ROOT, '.venv-python')
export const REQUIREMENTS = join(ROOT, 'python', 'requirements.txt')
const STAMP = join(VENV, 'requirements.sha256')
const MIN_PYTHON = [3, 11]

export class PythonEnvError extends Error {}

/** The interpreter that makes the venv: $PYTHON, else python3 on the PATH. */
function basePython() {
  const python = process.env.PYTHON || 'python3'
  const r = spawnSync(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    throw new PythonEnvError(`no Python found (ran ${python}). Install Python ${MIN_PYTHON.join('.')} or newer with its venv module ` +
      `(Debian/Ubuntu: apt-get install -y python3 python3-venv), or set PYTHON to an interpreter`)
  }
  const version = r.stdout.trim()
  const [major, minor] = version.split('.').map(Number)
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new PythonEnvError(`${python} is Python ${version}; allowed: ${MIN_PYTHON.join('.')} or newer (set PYTHON to one)`)
  }
  // Debian splits venv's pip bootstrap (ensurepip) into python3-venv
  const venv = spawnSync(python, ['-c', 'import venv, ensurepip'], { encoding: 'utf8' })
  if (venv.status !== 0) {
    throw new PythonEnvError(`${python} (Python ${version}) lacks the venv/ensurepip modules. ` +
      `Install them (Debian/Ubuntu: apt-get install -y python3-venv)`)
  }
  return { python, version }
}

function venvPython() {
  return join(VENV, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python')
}

/** What the venv was made from: the requirements and the interpreter's version. */
function wantedStamp(version) {
  return createHash('sha256').update(readFileSync(REQUIREMENTS)).update(`\npython ${version}\n`).digest('hex')
}

/**
 * The venv's python, made and installed first if needed. `log` gets one line per thing done.
 * Throws PythonEnvError naming what is missing and how to install it.
 */
export function ensurePythonEnv(log = (line) => console.log(line)) {
  const { python, version } = basePython()
  const stamp = wantedStamp(version)
  if (existsSync(venvPython()) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === stamp) return venvPython()
  log(`[python] making ${VENV} with ${python} (Python ${version}) and installing python/requirements.txt`)
  const t0 = Date.now()
  // a fresh venv each time the pins change: nothing left over from older pins
  const made = spawnSync(python, ['-m', 'venv', '--clear', VENV], { stdio: 'inherit' })
  if (made.status !== 0) {
    throw new PythonEnvError(`${python} -m venv ${VENV} failed. Install the venv module (Debian/Ubuntu: apt-get install -y python3-venv)`)
  }
  // --retries 0: an unreachable index fails over to the next one at once
  const pip = spawnSync(venvPython(), ['-m', 'pip', 'install', '--retries', '0', '--disable-pip-version-check', '-r', REQUIREMENTS], { stdio: 'inherit' })
  if (pip.status !== 0) {
    throw new PythonEnvError(`pip could not install python/requirements.txt into ${VENV} (see pip's message above). ` +
      `It needs a package index with those pins (PyPI, or the indexes in \`pip config list\`); ` +
      `by hand: ${venvPython()} -m pip install -r python/requirements.txt`)
  }
  writeFileSync(STAMP, stamp + '\n')
  log(`[python] installed in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return venvPython()
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensurePythonEnv((line) => console.error(line)))
  } catch (e) {
    console.error(`[python] ${e.message}`)
    process.exit(1)
  }
}
