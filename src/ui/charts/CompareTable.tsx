// The runs on the charts side by side: each one's final figures (last step's reward, accuracy,
// mean length and KL, the last held-out evaluation, the steps), named as in the charts' legend;
// a run can be taken off, and a run kept in this browser (IndexedDB) added.
import { useEffect, useState } from 'react'
import { changeList, type ComparedRun, configChanges, finalFigures } from '../../lab/compare'
import type { RunHeader } from '../../store/runDb'
import { useLab } from '../../store/labStore'

const fig = (v: number | null) => (v === null ? '–' : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3))

const COLUMNS = ['Run', 'Source', 'Steps', 'Reward', 'Accuracy', 'Eval pass@1', 'Mean length', 'KL', ''] as const

export function CompareTable({ runs, names }: { runs: ComparedRun[]; names: string[] }) {
  const shownId = useLab((s) => s.run?.id)
  const compared = useLab((s) => s.compared)
  const [saved, setSaved] = useState<RunHeader[]>([])
  // the runs kept in this browser change as runs start (each is saved) and end
  useEffect(() => { void useLab.getState().savedRuns().then(setSaved) }, [shownId, compared])
  const addable = saved.filter((h) => !runs.some((r) => r.id === h.id))
  const lab = useLab.getState()
  return (
    <div className="compare">
      {runs.length > 1 && (
        <table aria-label="Final figures of the runs compared" className="compare-table">
          <thead><tr>{COLUMNS.map((c) => <th key={c} scope="col">{c}</th>)}</tr></thead>
          <tbody>
            {runs.map((r, i) => {
              const f = finalFigures(r)
              const changes = i === 0 ? `its configuration is the one the others are named against` : changeList(configChanges(runs[0].config, r.config)) || 'no change'
              return (
                <tr key={r.id} data-compared-id={r.id}>
                  <th scope="row" title={changes}>{names[i]}{i === 0 && <span className="hint"> ({r.name})</span>}</th>
                  <td>{r.source}{r.id === shownId && ' (shown)'}</td>
                  <td>{f.steps}</td><td>{fig(f.reward)}</td><td>{fig(f.accuracy)}</td><td>{fig(f.evalPass)}</td>
                  <td>{fig(f.meanLength)}</td><td>{fig(f.kl)}</td>
                  <td>{r.id !== shownId && <button aria-label={`Remove ${names[i]} from the comparison`} onClick={() => lab.uncompare(r.id)}>✕</button>}</td>
                </tr>
              )
            })}
          </tbody>
        </table>
      )}
      <div className="buttons">
        {addable.length > 0 && (
          <label>Compare with a saved run{' '}
            <select aria-label="Compare with a saved run" value="" onChange={(e) => { if (e.target.value) void lab.compareSaved(e.target.value) }}>
              <option value="">(choose)</option>
              {addable.map((h) => <option key={h.id} value={h.id}>{h.name} — {new Date(h.createdAt).toLocaleString()}</option>)}
            </select>
          </label>
        )}
        {compared.length > 0 && <button onClick={() => lab.clearCompared()}>Clear comparison</button>}
      </div>
    </div>
  )
}
