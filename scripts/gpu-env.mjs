// Where Node's WebGPU (Dawn through the `webgpu` package) finds a Vulkan driver.
// A system driver is used when it really gives an adapter (probed in a child Node); otherwise
// SwiftShader, the CPU Vulkan that Debian's chromium ships with a Vulkan loader in its own
// folder. A machine with Mesa's drivers installed but no GPU has ICD files that give no
// adapter, so their presence alone decides nothing. The environment must be set before Node
// starts (the dynamic linker and the Vulkan loader read it once), so callers apply it to child
// processes; a child inherits VK_ICD_FILENAMES and does not probe again.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, delimiter, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const CHROMIUM_DIRS = ['/usr/lib/chromium', '/usr/lib/chromium-browser', '/usr/lib64/chromium', '/snap/chromium/current/usr/lib/chromium-browser']
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d']
/** Overrides SYSTEM_ICD_DIRS (a list like PATH): how the tests put a fake driver in place. */
export const ICD_DIRS_VAR = 'GRPO_LAB_VULKAN_ICD_DIRS'
const LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu']

export function findSwiftShaderIcd() {
  for (const dir of CHROMIUM_DIRS) {
    const icd = `${dir}/vk_swiftshader_icd.json`
    if (existsSync(icd)) return icd
  }
  return null
}

/** The system's Vulkan driver manifests; lavapipe (lvp, a CPU Vulkan) is no GPU driver. */
function systemDriverFiles(env) {
  const dirs = env[ICD_DIRS_VAR] ? env[ICD_DIRS_VAR].split(delimiter) : SYSTEM_ICD_DIRS
  return dirs.filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.json') && !f.includes('lvp')).sort().map((f) => join(d, f)))
}

function systemHasVulkanLoader() {
  return LOADER_DIRS.some((d) => existsSync(`${d}/libvulkan.so.1`))
}

// The adapter is requested as src/engine/webgpu/device.ts does, and a device too.
const PROBE = `
const { create, globals } = await import(process.argv[1])
Object.assign(globalThis, globals)
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' })
const device = adapter && await adapter.requestDevice()
const info = adapter?.info
process.stdout.write(JSON.stringify(device ? { vendor: info.vendor, architecture: info.architecture, description: info.description } : null))
process.exit(0)
`

/**
 * The WebGPU adapter a new Node process started with `env` gets, or null: requested in a
 * child Node, as the environment only takes effect at process start.
 */
export function probeWebGPUAdapter(env) {
  let webgpu
  try { webgpu = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href } catch { return null }
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, webgpu], { env, encoding: 'utf8', timeout: 120_000 })
  try { return JSON.parse(r.stdout) } catch { return null }
}

const describeAdapter = (a) => [a.description, a.vendor, a.architecture].filter(Boolean).join(', ')

/** Environment additions for a Node process that will use WebGPU, and a line saying which driver and why. */
export function gpuEnvironment(env = process.env) {
  const icd = findSwiftShaderIcd()
  const out = {}
  if (!systemHasVulkanLoader() && icd) {
    const dir = dirname(icd)
    const current = env.LD_LIBRARY_PATH ? env.LD_LIBRARY_PATH.split(delimiter) : []
    if (!current.includes(dir)) out.LD_LIBRARY_PATH = [...current, dir].join(delimiter)
  }
  const pinned = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES
  if (pinned) return { env: out, note: `using the Vulkan driver set in the environment (${pinned})` }

  let why = 'no system Vulkan driver'
  const drivers = systemDriverFiles(env)
  if (drivers.length) {
    const names = drivers.map((f) => basename(f)).join(', ')
    const candidate = { ...out, VK_ICD_FILENAMES: drivers.join(delimiter) }
    const adapter = probeWebGPUAdapter({ ...env, ...candidate })
    if (adapter) return { env: candidate, note: `using the system Vulkan driver (${names}): ${describeAdapter(adapter)}` }
    why = `the system Vulkan drivers (${names}) give no WebGPU adapter`
  }
  if (!icd) return { env: out, note: `${why}, and no Chromium SwiftShader found (install Debian's chromium: apt-get install -y chromium)` }
  return { env: { ...out, VK_ICD_FILENAMES: icd }, note: `${why}: using SwiftShader from ${icd}` }
}
