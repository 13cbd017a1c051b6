// Where Node's WebGPU (Dawn through the `webgpu` package) finds a Vulkan driver.
// On a machine with no GPU, Debian's chromium ships SwiftShader (a CPU Vulkan) and a Vulkan
// loader in its own folder; point Dawn at them. Must be in the environment before Node starts
// (the dynamic linker reads LD_LIBRARY_PATH once), so callers apply it to child processes.
import { existsSync, readdirSync } from 'node:fs'
import { delimiter, dirname } from 'node:path'

const CHROMIUM_DIRS = ['/usr/lib/chromium', '/usr/lib/chromium-browser', '/usr/lib64/chromium', '/snap/chromium/current/usr/lib/chromium-browser']
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d']
const LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu']

export function findSwiftShaderIcd() {
  for (const dir of CHROMIUM_DIRS) {
    const icd = `${dir}/vk_swiftshader_icd.json`
    if (existsSync(icd)) return icd
  }
  return null
}

function systemHasVulkanDriver() {
  return SYSTEM_ICD_DIRS.some((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json') && !f.includes('lvp')))
}

function systemHasVulkanLoader() {
  return LOADER_DIRS.some((d) => existsSync(`${d}/libvulkan.so.1`))
}

/** Environment additions for a Node process that will use WebGPU, and a line saying why. */
export function gpuEnvironment(env = process.env) {
  const out = {}
  let note = 'using the system Vulkan driver'
  const icd = findSwiftShaderIcd()
  const pinned = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES
  if (!pinned && !systemHasVulkanDriver()) {
    if (icd) {
      out.VK_ICD_FILENAMES = icd
      note = `no GPU driver found: using SwiftShader from ${icd}`
    } else {
      note = 'no Vulkan driver and no Chromium SwiftShader found (install Debian\'s chromium: apt-get install -y chromium)'
    }
  }
  if (!systemHasVulkanLoader() && icd) {
    const dir = dirname(icd)
    const current = env.LD_LIBRARY_PATH ? env.LD_LIBRARY_PATH.split(delimiter) : []
    if (!current.includes(dir)) out.LD_LIBRARY_PATH = [...current, dir].join(delimiter)
  }
  return { env: out, note }
}
