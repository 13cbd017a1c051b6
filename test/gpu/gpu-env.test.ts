// scripts/gpu-env.mjs picks the Vulkan driver for Node's WebGPU by what really gives an
// adapter. A fake ICD directory stands in for a machine with Mesa's drivers and no GPU: its
// manifests name libraries that load nothing, as the Intel and Radeon ones do there.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { findSwiftShaderIcd, gpuEnvironment, ICD_DIRS_VAR, probeWebGPUAdapter } from '../../scripts/gpu-env.mjs'
import { GRPO_CASES } from '../fixtures/grpoCases'

const BIN = join(__dirname, '../../bin/grpo-lab.mjs')
const SWIFTSHADER_LIB = findSwiftShaderIcd()?.replace(/vk_swiftshader_icd\.json$/, 'libvk_swiftshader.so')

/** A directory of Vulkan driver manifests, by file name and library path. */
function icdDir(drivers: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-lab-icd-'))
  for (const [file, library] of Object.entries(drivers)) {
    writeFileSync(join(dir, file), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: library, api_version: '1.3.0' } }))
  }
  return dir
}

/** This process's environment as a fresh shell has it: no Vulkan variables of the test runner. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(VK_|LD_LIBRARY_PATH$)/.test(k)) env[k] = v
  return { ...env, ...extra }
}

describe('gpuEnvironment', () => {
  it('needs Chromium\'s SwiftShader on this machine (the fallback under test)', () => {
    expect(SWIFTSHADER_LIB, 'install Debian\'s chromium').toBeTruthy()
  })

  it('system drivers that give no adapter (Mesa, no GPU): falls back to SwiftShader, says why, and the result gives an adapter', () => {
    const env = cleanEnv({ [ICD_DIRS_VAR]: icdDir({ 'intel_icd.json': '/nonexistent/libvulkan_intel.so', 'radeon_icd.json': '/nonexistent/libvulkan_radeon.so' }) })
    expect(probeWebGPUAdapter({ ...env, VK_ICD_FILENAMES: env[ICD_DIRS_VAR] + '/intel_icd.json' })).toBeNull()
    const chosen = gpuEnvironment(env)
    expect(chosen.env.VK_ICD_FILENAMES).toBe(findSwiftShaderIcd())
    expect(chosen.note).toMatch(/the system Vulkan drivers \(intel_icd\.json, radeon_icd\.json\) give no WebGPU adapter: using SwiftShader/)
    expect(probeWebGPUAdapter({ ...env, ...chosen.env })).toMatchObject({ architecture: 'swiftshader' })
  })

  it('a system driver that gives an adapter is chosen, named with its adapter; lavapipe is passed over', () => {
    const dir = icdDir({ 'lvp_icd.json': '/nonexistent/libvulkan_lvp.so', 'working_icd.json': SWIFTSHADER_LIB! })
    const chosen = gpuEnvironment(cleanEnv({ [ICD_DIRS_VAR]: dir }))
    expect(chosen.env.VK_ICD_FILENAMES).toBe(join(dir, 'working_icd.json'))
    expect(chosen.note).toMatch(/^using the system Vulkan driver \(working_icd\.json\): SwiftShader/)
  })

  it('a driver set in the environment is left as it is', () => {
    const chosen = gpuEnvironment(cleanEnv({ VK_ICD_FILENAMES: '/somewhere/my_icd.json' }))
    expect(chosen.env.VK_ICD_FILENAMES).toBeUndefined()
    expect(chosen.note).toBe('using the Vulkan driver set in the environment (/somewhere/my_icd.json)')
  })

  it('grpo-lab --backend webgpu works on the machine with drivers that give no adapter', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'grpo-lab-')), 'ws.json')
    writeFileSync(file, JSON.stringify(GRPO_CASES.far_outside_clip.input))
    const env = cleanEnv({ [ICD_DIRS_VAR]: icdDir({ 'intel_icd.json': '/nonexistent/libvulkan_intel.so' }) })
    const out = JSON.parse(execFileSync(process.execPath, [BIN, 'worksheet', '--backend', 'webgpu', '--input', file], { encoding: 'utf8', env }))
    expect(Math.abs(out.loss - GRPO_CASES.far_outside_clip.expected.loss)).toBeLessThan(1e-5)
  })
})
