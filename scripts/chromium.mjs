// The system Chromium that Playwright drives (Playwright's own browser download cannot be used
// here): CHROMIUM_PATH first, then the usual system paths, else a clear error.
import { existsSync } from 'node:fs'

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium']

export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`)
    return fromEnv
  }
  const found = CANDIDATES.find((p) => existsSync(p))
  if (!found) {
    throw new Error(`no Chromium found (looked at ${CANDIDATES.join(', ')}). Install Debian's: apt-get install -y chromium, or set CHROMIUM_PATH`)
  }
  return found
}

/** --enable-unsafe-webgpu is what makes requestAdapter() answer in headless Chromium. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
]
