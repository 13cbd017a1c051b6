// A small synthetic corpus for the engine's learning test and the page's first demo: a short
// rhyme repeated, read from random offsets. A bigram model cannot predict it (the same letters
// are followed by different ones in different words), so falling loss needs attention.
import { CharTokenizer } from '../model/tokenizer'
import type { TokenBatch } from '../model/train'
import { randomBits, Stream } from '../engine/rng'

export const RHYME = 'the cat sat on the mat. the dog sat on the log. '

export function rhymeTokenizer(): CharTokenizer {
  return new CharTokenizer(Array.from(new Set(RHYME)).sort().join(''))
}

/** B windows of T+1 characters from random offsets into the repeated rhyme, for step `step`. */
export function rhymeBatch(tok: CharTokenizer, B: number, T: number, seed: number, step: number): TokenBatch {
  const ids = tok.encode(RHYME)
  const inputs = new Uint32Array(B * T)
  const targets = new Uint32Array(B * T)
  for (let b = 0; b < B; b++) {
    const start = randomBits(seed, Stream.data, step, b) % ids.length
    for (let t = 0; t < T; t++) {
      inputs[b * T + t] = ids[(start + t) % ids.length]
      targets[b * T + t] = ids[(start + t + 1) % ids.length]
    }
  }
  return { B, T, inputs, targets }
}
