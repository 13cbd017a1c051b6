// Messages the page must not hide: problems with a link, a file, a value, the base model, the
// GPU. Each is text only (a message may quote a link, and is never HTML) and can be dismissed.
import { useLab } from '../store/labStore'

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
              <button onClick={() => { lab.dismiss(a.id); lab.setConfig({ base_model: '' }); lab.start() }}>Train from fresh weights</button>{' '}
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
