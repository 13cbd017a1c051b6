// WebGPU in Node: Dawn through the `webgpu` package, kernels read from shaders/ on disk.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ShaderSources } from './webgpu/shaderSources'
import { createWebGPUBackend } from './webgpu/device'
import type { WebGPUBackend } from './webgpu/webgpuBackend'

const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url))

export function loadShaderSourcesFromDisk(dir = SHADER_DIR): ShaderSources {
  const sources: Record<string, string> = {}
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.wgsl')) sources[file.slice(0, -5)] = readFileSync(`${dir}/${file}`, 'utf8')
  }
  return sources
}

const HINT = 'on a machine without a GPU, install Debian\'s chromium (it ships SwiftShader) and start Node with ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium ' +
  '(npm test and the grpo-lab command set these themselves)'

let dawn: { gpu: GPU } | null = null

export async function createNodeWebGPUBackend(): Promise<WebGPUBackend> {
  if (!dawn) {
    const webgpu = await import('webgpu')
    Object.assign(globalThis, webgpu.globals)
    dawn = { gpu: webgpu.create([]) }
  }
  return createWebGPUBackend(dawn.gpu, loadShaderSourcesFromDisk(), HINT)
}
