// The tiny GPT's shape, as a small typed object (nanoGPT style), with checks that say what is
// wrong and what is allowed.

export interface GPTConfig {
  /** number of token ids (the tokenizer's vocabulary, end token included) */
  vocabSize: number
  /** context length: the most positions a sequence may have */
  blockSize: number
  nLayer: number
  nHead: number
  /** width of the residual stream; a multiple of nHead */
  nEmbd: number
}

export const CONFIG_LIMITS = {
  vocabSize: [2, 4096],
  blockSize: [2, 1024],
  nLayer: [1, 12],
  nHead: [1, 16],
  nEmbd: [4, 1024],
} as const satisfies Record<keyof GPTConfig, readonly [number, number]>

export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`)
  }
}

export function validateConfig(c: GPTConfig): GPTConfig {
  for (const key of Object.keys(CONFIG_LIMITS) as (keyof GPTConfig)[]) {
    const [lo, hi] = CONFIG_LIMITS[key]
    const v = c[key]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
      throw new ConfigError(key, `got ${JSON.stringify(v)}; allowed: an integer from ${lo} to ${hi}`)
    }
  }
  if (c.nEmbd % c.nHead !== 0) {
    throw new ConfigError('nEmbd', `got ${c.nEmbd}, which is not a multiple of nHead = ${c.nHead}`)
  }
  return c
}

/** Number of trainable parameters (without alignment padding). */
export function parameterCount(c: GPTConfig): number {
  const C = c.nEmbd
  const perLayer = 2 * C + 3 * C * C + 3 * C + C * C + C + 2 * C + 4 * C * C + 4 * C + 4 * C * C + C
  return c.vocabSize * C + c.blockSize * C + c.nLayer * perLayer + 2 * C + c.vocabSize * C
}
