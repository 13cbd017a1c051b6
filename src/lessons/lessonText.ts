// A lesson paragraph as pieces: plain text, `code`, **bold**, $inline$ and $$display$$ TeX.
// The panel renders text and code as React text (escaped) and only the TeX through KaTeX;
// a lesson file never supplies HTML. `\$` is a literal dollar sign.

export type Piece =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'bold'; text: string }
  | { kind: 'tex'; tex: string; display: boolean }

const TOKEN = /\\\$|\$\$([^$]+?)\$\$|\$([^$\n]+?)\$|`([^`\n]+)`|\*\*([^*\n]+)\*\*/g

export function lessonPieces(paragraph: string): Piece[] {
  const out: Piece[] = []
  let text = ''
  let at = 0
  const flush = () => { if (text) out.push({ kind: 'text', text }); text = '' }
  for (const m of paragraph.matchAll(TOKEN)) {
    text += paragraph.slice(at, m.index)
    at = m.index + m[0].length
    if (m[0] === '\\$') { text += '$'; continue }
    flush()
    if (m[1] !== undefined) out.push({ kind: 'tex', tex: m[1].trim(), display: true })
    else if (m[2] !== undefined) out.push({ kind: 'tex', tex: m[2].trim(), display: false })
    else if (m[3] !== undefined) out.push({ kind: 'code', text: m[3] })
    else out.push({ kind: 'bold', text: m[4] })
  }
  text += paragraph.slice(at)
  flush()
  return out
}
