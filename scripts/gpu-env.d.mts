export const ICD_DIRS_VAR: string
export function findSwiftShaderIcd(): string | null
export interface AdapterInfo { vendor: string; architecture: string; description: string }
export function probeWebGPUAdapter(env: Record<string, string | undefined>): AdapterInfo | null
export function gpuEnvironment(env?: Record<string, string | undefined>): { env: Record<string, string>; note: string }
