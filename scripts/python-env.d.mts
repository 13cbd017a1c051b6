export const VENV: string
export const REQUIREMENTS: string
export class PythonEnvError extends Error {}
export function ensurePythonEnv(log?: (line: string) => void): string
