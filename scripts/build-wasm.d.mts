export const WASM_SOURCE_DIR: string
export const WASM_BUILD_DIR: string
export const MAX_PAGES: number
export const VARIANTS: { name: string; shared: boolean; relaxed: boolean }[]
export function wasmUpToDate(): boolean
export function buildWasm(options?: { force?: boolean; log?: (line: string) => void }): Promise<boolean>
