// JSON from outside the lab (a checkpoint's header, a run file, a config file): its size and
// nesting are checked before JSON.parse sees it. JSON.parse itself copes with deep nesting, but
// slowly (seconds for millions of levels), and any later JSON.stringify or recursive walk of such
// a value overflows the stack; the lab's own files nest a few levels only.

export interface JsonLimits {
  /** most UTF-16 code units of text */
  maxChars: number
  /** most levels of [ and { */
  maxDepth: number
  /** most members of one object (JSON.parse takes seconds over a million keys) */
  maxMembers: number
}

/** Parse `text`, or return the reason it is refused (a sentence naming the limit or the syntax error). */
export function parseUntrustedJson(text: string, limits: JsonLimits): { value: unknown } | { error: string } {
  if (text.length > limits.maxChars) {
    return { error: `${text.length} characters of JSON; allowed: at most ${limits.maxChars}` }
  }
  const shape = outOfShape(text, limits)
  if (shape) return { error: shape }
  try {
    return { value: JSON.parse(text) }
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message.slice(0, 120)})` }
  }
}

/** One pass over the text outside strings: nesting depth and members per object, each against its
 *  limit; the broken limit as a sentence, or null. (Syntax is JSON.parse's to judge.) */
function outOfShape(text: string, { maxDepth, maxMembers }: JsonLimits): string | null {
  const members = new Array<number>(maxDepth + 2).fill(0) // per open level; colons count an object's members
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return `JSON nested more than ${maxDepth} levels deep; allowed: at most ${maxDepth}`
      members[depth] = 0
    } else if (c === 0x5d || c === 0x7d) depth = Math.max(0, depth - 1)
    else if (c === 0x3a && ++members[depth] > maxMembers) return `a JSON object with more than ${maxMembers} members; allowed: at most ${maxMembers}`
  }
  return null
}

/** Top-level keys of a JSON object's text, in order, duplicates kept (JSON.parse keeps only the
 *  last). Exact for valid JSON (parse it first); on other text it still ends. */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = []
  let depth = 0
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      const start = i
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(start, i + 1)) as string)
      expectKey = false
    } else if (c === 0x5b || c === 0x7b) { depth++; expectKey = c === 0x7b && depth === 1 }
    else if (c === 0x5d || c === 0x7d) depth--
    else if (c === 0x2c) expectKey = depth === 1
  }
  return keys
}
