// Messages the page must not hide: problems with a link, a file, a value, the base model, the
// GPU. Each is text only (a message may quote a link, and is never HTML) and can be dismissed.
import { MAX_MODEL_LABEL } from '../lab/modelSource'
import { pageModelSource, useLab } from '../store/labStore'

/** A base model on another site: named, and fetched only once the visitor allows its origin. */
function ConsentPrompt() {
  const base = useLab((s) => s.config.base_model)
  const allowed = useLab((s) => s.allowedOrigins)
  const source = pageModelSource(base)
  if (source.kind !== 'other-origin' || allowed.includes(source.origin)) return null
  const lab = useLab.getState()
  return (
    <div role="alert" className="warning" aria-label="Base model from another site">
      <b>This configuration's base model is on another site: {source.host}.</b>{' '}
      The lab has fetched nothing from it and loads <code>{source.url}</code> (at most {MAX_MODEL_LABEL}) only if you allow it.{' '}
      <button onClick={() => lab.allowOrigin(source.origin)}>Allow loading from {source.host}</button>{' '}
      <button onClick={() => lab.freshWeights()}>Use fresh weights instead</button>
    </div>
  )
}

export function Alerts() {
  const alerts = useLab((s) => s.alerts)
  const linkProblems = useLab((s) => s.linkProblems)
  const fallbackReason = useLab((s) => s.fallbackReason)
  const lab = useLab.getState()
  return (
    <div className="alerts">
      {fallbackReason && (
        <p role="alert" className="warning">
          No WebGPU ({fallbackReason}). The lab runs on the CPU backend instead: slower, same results.
        </p>
      )}
      <ConsentPrompt />
      {linkProblems.length > 0 && (
        <div role="alert" className="error" aria-label="Link problems">
          <b>This link has {linkProblems.length === 1 ? 'a value' : 'values'} the lab cannot use; {linkProblems.length === 1 ? 'it was' : 'they were'} left at the default:</b>
          <ul>{linkProblems.map((p, i) => <li key={i}><code>{p.key}</code> — {p.message.startsWith(`${p.key}: `) ? p.message.slice(p.key.length + 2) : p.message}</li>)}</ul>
          <button onClick={() => useLab.setState({ linkProblems: [] })}>Dismiss</button>
        </div>
      )}
      {alerts.map((a) => (
        <div key={a.id} role="alert" className="error">
          {a.text}{' '}
          {a.action === 'fresh-weights' && (
            <>
              <button onClick={() => { lab.dismiss(a.id); if (lab.freshWeights()) lab.start() }}>Train from fresh weights</button>{' '}
              <button onClick={() => { lab.dismiss(a.id); lab.pretrain(1500) }}>Pretrain base model here</button>
            </>
          )}
          {a.action === 'export-run' && <button onClick={() => void lab.exportRun()}>Export run</button>}
          {a.action === 'resume' && <button onClick={() => void lab.resumeSaved()}>Resume on a new device</button>}
          <button onClick={() => lab.dismiss(a.id)} aria-label="Dismiss message">×</button>
        </div>
      ))}
    </div>
  )
}
