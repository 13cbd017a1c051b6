// Share links: the configuration as a readable URL fragment (only what differs from the
// defaults, the seed always). A lesson link can hide controls and start on its own.
import { useState } from 'react'
import { HIDEABLE_PANELS } from '../../lab/link'
import { useLab } from '../../store/labStore'

const PANEL_NAMES: Record<(typeof HIDEABLE_PANELS)[number], string> = {
  preset: 'preset picker', knobs: 'all knobs', worksheet: 'worksheet', traces: 'traces', charts: 'charts', export: 'export / import',
}

export function SharePanel() {
  const hidden = useLab((s) => s.hidden)
  const config = useLab((s) => s.config)
  const [autostart, setAutostart] = useState(false)
  const [copied, setCopied] = useState<string | null>(null)
  const link = useLab.getState().shareLink(autostart)
  void config // the link depends on the config: re-render when it changes
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link)
      setCopied('Link copied.')
    } catch {
      setCopied('The browser refused the clipboard: copy the link from the box.')
    }
  }
  const toggle = (what: string) => useLab.getState().setHidden(hidden.includes(what) ? hidden.filter((h) => h !== what) : [...hidden, what])
  return (
    <section aria-label="Share" className="panel share">
      <h2>Share</h2>
      <div className="share-row">
        <input aria-label="Share link" readOnly value={link} onFocus={(e) => e.target.select()} />
        <button onClick={() => void copy()}>Copy link</button>
      </div>
      {copied && <p className="hint" role="status">{copied}</p>}
      <details>
        <summary>Lesson link: hide controls</summary>
        <div className="lesson">
          {HIDEABLE_PANELS.map((p) => (
            <label key={p}><input type="checkbox" checked={hidden.includes(p)} onChange={() => toggle(p)} aria-label={`Hide ${PANEL_NAMES[p]}`} /> hide {PANEL_NAMES[p]}</label>
          ))}
          <label><input type="checkbox" checked={autostart} onChange={(e) => setAutostart(e.target.checked)} aria-label="Start automatically" /> start the run when the link opens</label>
          <p className="hint">Single knobs: add <code>&lt;name&gt;_hide=1</code> to the link, e.g. <code>beta_hide=1</code>.</p>
        </div>
      </details>
    </section>
  )
}
