// WGSL has no #include: kernels name shared files with `#include "name.wgsl"` and the loader
// pastes them in, once each. Sources come from shaders/ (read from disk in Node, bundled by
// Vite in the browser), keyed by file name without '.wgsl'.

export type ShaderSources = Readonly<Record<string, string>>

export function resolveIncludes(name: string, sources: ShaderSources, seen = new Set<string>()): string {
  const code = sources[name]
  if (code === undefined) throw new Error(`shader '${name}.wgsl' not found in shaders/ (have: ${Object.keys(sources).join(', ')})`)
  seen.add(name)
  return code.replace(/^#include "([\w-]+)\.wgsl"\s*$/gm, (_line, dep: string) =>
    seen.has(dep) ? '' : resolveIncludes(dep, sources, seen))
}
