// A completion's text split for display: the reasoning (<think> … </think>), the answer
// (<answer> … </answer>) and anything else, with reflection words found. Pure text in, pure
// text out: the viewer renders every piece as text, never as HTML.

export interface CompletionParts {
  think: string
  answer: string | null
  /** text outside the two sections (a malformed completion's tail) */
  rest: string
  /** did the model close </think>? */
  closedThink: boolean
}

export function completionParts(text: string): CompletionParts {
  const end = text.indexOf('</think>')
  const think = end >= 0 ? text.slice(0, end) : text
  const after = end >= 0 ? text.slice(end + '</think>'.length) : ''
  const m = /<answer>([\s\S]*?)(<\/answer>|$)/.exec(after)
  const answer = m ? m[1] : null
  const rest = m ? after.slice(0, m.index) + after.slice(m.index + m[0].length) : after
  return { think, answer, rest, closedThink: end >= 0 }
}

// the same words as hasReflection in src/rl/rewards.ts (a unit test keeps the two in step)
const REFLECTION = /\b(wait|check|recheck|verify|hmm|mistake|oops)\b/gi

/** Text cut into plain and reflection-word pieces, for marking. */
export function reflectionPieces(text: string): { text: string; reflection: boolean }[] {
  const out: { text: string; reflection: boolean }[] = []
  let at = 0
  for (const m of text.matchAll(REFLECTION)) {
    if (m.index > at) out.push({ text: text.slice(at, m.index), reflection: false })
    out.push({ text: m[0], reflection: true })
    at = m.index + m[0].length
  }
  if (at < text.length) out.push({ text: text.slice(at), reflection: false })
  return out
}

/** An advantage as a background colour: green for positive, red for negative, white at 0. */
export function advantageColor(a: number): string {
  const x = Math.max(-1, Math.min(1, a / 2))
  const alpha = Math.abs(x) * 0.55
  return x >= 0 ? `rgba(42, 157, 92, ${alpha.toFixed(3)})` : `rgba(216, 58, 58, ${alpha.toFixed(3)})`
}
