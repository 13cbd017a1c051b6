// Character-level tokenizer: small vocabularies keep tiny models tiny. Id 0 is the end token.

export const EOS_ID = 0
export const EOS_TEXT = '<|end|>'

/** Printable ASCII and newline: enough for the lab's tasks. */
export const DEFAULT_CHARS = '\n' + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')

export class CharTokenizer {
  private readonly ids = new Map<string, number>()

  constructor(readonly chars: string = DEFAULT_CHARS) {
    Array.from(chars).forEach((ch, i) => {
      if (this.ids.has(ch)) throw new Error(`tokenizer: character ${JSON.stringify(ch)} appears twice in its alphabet`)
      this.ids.set(ch, i + 1)
    })
  }

  get vocabSize(): number { return this.ids.size + 1 }

  encode(text: string): number[] {
    return Array.from(text, (ch) => {
      const id = this.ids.get(ch)
      if (id === undefined) throw new Error(`tokenizer: character ${JSON.stringify(ch)} is not in the alphabet ${JSON.stringify(this.chars)}`)
      return id
    })
  }

  /** Text of the ids up to (not including) the first end token. */
  decode(ids: ArrayLike<number>): string {
    let s = ''
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === EOS_ID) break
      s += this.chars[ids[i] - 1] ?? '\uFFFD'
    }
    return s
  }

  toJSON(): { type: 'char'; chars: string } { return { type: 'char', chars: this.chars } }

  static fromJSON(j: unknown): CharTokenizer {
    const o = j as { type?: unknown; chars?: unknown }
    if (!o || o.type !== 'char' || typeof o.chars !== 'string') {
      throw new Error('tokenizer: expected {"type": "char", "chars": "<alphabet>"}')
    }
    return new CharTokenizer(o.chars)
  }
}
