// JSON from outside the lab (a checkpoint's header, a run file, a config file): its size and
// nesting are checked before JSON.parse sees it. JSON.parse itself copes with deep nesting, but
// slowly (seconds for millions of levels), and any later JSON.stringify or recursive walk of such
// a value overflows the stack; the lab's own files nest a few levels only.

export interface JsonLimits {
  /** most UTF-16 code units of text */
  maxChars: number
  /** most levels of [ and { */
  maxDepth: number
}

/** Parse `text`, or return the reason it is refused (a sentence naming the limit or the syntax error). */
export function parseUntrustedJson(text: string, limits: JsonLimits): { value: unknown } | { error: string } {
  if (text.length > limits.maxChars) {
    return { error: `${text.length} characters of JSON; allowed: at most ${limits.maxChars}` }
  }
  const depth = nestingDepth(text, limits.maxDepth)
  if (depth > limits.maxDepth) return { error: `JSON nested more than ${limits.maxDepth} levels deep; allowed: at most ${limits.maxDepth}` }
  try {
    return { value: JSON.parse(text) }
  } catch (e) {
    return { error: `not valid JSON (${(e as Error).message.slice(0, 120)})` }
  }
}

/** Deepest nesting of [ and { outside strings, counting stops once past `stopAbove`. */
function nestingDepth(text: string, stopAbove: number): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > stopAbove) return deepest
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return deepest
}

/** Top-level keys of a JSON object's text, in order, duplicates kept (JSON.parse keeps only the last).
 *  `text` must already be valid JSON (parse it first). */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = []
  let depth = 0
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      const start = i
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(start, i + 1)) as string)
      expectKey = false
    } else if (c === 0x5b || c === 0x7b) { depth++; expectKey = c === 0x7b && depth === 1 }
    else if (c === 0x5d || c === 0x7d) depth--
    else if (c === 0x2c) expectKey = depth === 1
  }
  return keys
}
