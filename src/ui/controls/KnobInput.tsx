// One configuration key as an input: its TRL name as the label, its one-line meaning and range
// as the tooltip. A value out of range, or one that breaks a cross-key rule, is refused on the
// spot with what is allowed; the config keeps its last good value.
import { useEffect, useState } from 'react'
import { describeAllowed, RUN_CONFIG_SPEC, type RunConfig } from '../../rl/config'
import { useLab } from '../../store/labStore'

type Key = keyof RunConfig

const format = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v))

function parse(key: Key, text: string): unknown {
  const spec = RUN_CONFIG_SPEC[key]
  switch (spec.kind) {
    case 'int': case 'float': return text.trim() === '' ? NaN : Number(text)
    case 'floats': return text.trim() === '' ? [] : text.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)))
    default: return text
  }
}

export function KnobInput({ name, disabled }: { name: Key; disabled?: boolean }) {
  const value = useLab((s) => s.config[name])
  const setConfig = useLab((s) => s.setConfig)
  const spec = RUN_CONFIG_SPEC[name]
  const [text, setText] = useState(format(value))
  const [problem, setProblem] = useState<string | null>(null)
  useEffect(() => { setText(format(value)); setProblem(null) }, [value])
  const tooltip = `${spec.help}. Allowed: ${describeAllowed(spec)}.`
  // checked alone and against the other keys (n_head must divide n_embd, …), as a link's values are
  const commit = (raw: unknown) => setProblem(setConfig({ [name]: raw } as Partial<RunConfig>)[0]?.message ?? null)
  let input
  if (spec.kind === 'bool') {
    input = <input type="checkbox" aria-label={name} title={tooltip} checked={value as boolean} disabled={disabled}
      onChange={(e) => commit(e.target.checked)} />
  } else if (spec.kind === 'enum') {
    const values = spec.values
    input = (
      <select aria-label={name} title={tooltip} value={String(value)} disabled={disabled} onChange={(e) => commit(e.target.value)}>
        {values.map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
    )
  } else {
    const numeric = spec.kind === 'int' || spec.kind === 'float'
    input = (
      <input aria-label={name} title={tooltip} value={text} disabled={disabled} inputMode={numeric ? 'decimal' : undefined}
        aria-invalid={problem !== null} className={problem ? 'invalid' : undefined}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => commit(parse(name, text))}
        onKeyDown={(e) => { if (e.key === 'Enter') commit(parse(name, text)) }} />
    )
  }
  return (
    <div className="knob">
      <label title={tooltip}><code>{name}</code>{input}</label>
      <div className="knob-help">{spec.help}</div>
      {problem && <div role="alert" className="knob-problem">{problem}</div>}
    </div>
  )
}
