// KaTeX strings for the worksheet, built only from numbers formatted here and fixed text:
// nothing a user, a link or a file wrote ever reaches KaTeX or the HTML.
import katex from 'katex'
import type { LossType } from '../../rl/loss'
import type { WorksheetConfig } from '../../rl/worksheet'

/** A number as TeX: fixed decimals, a real minus sign, "n/a" for what is not finite. */
export function num(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '\\text{n/a}'
  if (Math.abs(x) < 1e-9) x = 0 // float dust (the std of equal rewards) reads as 0
  const s = Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2).replace(/e([+-]\d+)/, '\\times 10^{$1}') : x.toFixed(digits)
  return s.replace(/^-/, '-')
}

/** A number that follows an operator: negatives in parentheses. */
export const paren = (x: number, digits = 3) => (x < 0 ? `(${num(x, digits)})` : num(x, digits))

export const vec = (xs: number[], digits = 3) => `(${xs.map((x) => num(x, digits)).join(',\\ ')})`

export function renderTex(tex: string, display = true): string {
  return katex.renderToString(tex, { displayMode: display, throwOnError: false, output: 'html', trust: false, strict: 'ignore' })
}

export const ADVANTAGE_TEX: Record<string, string> = {
  group: 'A_i = \\frac{r_i - \\operatorname{mean}(r_{\\text{group}})}{\\operatorname{std}(r_{\\text{group}}) + 10^{-4}}',
  batch: 'A_i = \\frac{r_i - \\operatorname{mean}(r_{\\text{group}})}{\\operatorname{std}(r_{\\text{batch}}) + 10^{-4}}',
  none: 'A_i = r_i - \\operatorname{mean}(r_{\\text{group}})\\quad\\text{(Dr. GRPO: no division)}',
}

export const AGGREGATION_TEX: Record<LossType, string> = {
  grpo: '\\mathcal{L} = \\frac{1}{N}\\sum_{i=1}^{N} \\frac{1}{|o_i|} \\sum_{t=1}^{|o_i|} \\ell_{i,t}',
  bnpo: '\\mathcal{L} = \\frac{\\sum_{i}\\sum_{t} \\ell_{i,t}}{\\sum_i |o_i|}',
  dr_grpo: '\\mathcal{L} = \\frac{\\sum_{i}\\sum_{t} \\ell_{i,t}}{N \\cdot L_{\\max}}',
  dapo: '\\mathcal{L} = \\frac{\\sum_{i}\\sum_{t} \\ell_{i,t}}{\\sum_i |o_i| \\text{ (whole accumulated batch)}}',
  luspo: '\\mathcal{L} = \\frac{1}{N}\\sum_{i=1}^{N} \\sum_{t=1}^{|o_i|} \\ell_{i,t}',
  cispo: '\\mathcal{L} = \\frac{\\sum_{i}\\sum_{t} \\ell_{i,t}}{\\sum_i |o_i| \\text{ (whole accumulated batch)}}',
  sapo: '\\mathcal{L} = \\frac{1}{N}\\sum_{i=1}^{N} \\frac{1}{|o_i|} \\sum_{t=1}^{|o_i|} \\ell_{i,t}',
  vespo: '\\mathcal{L} = \\frac{\\sum_{i}\\sum_{t} \\ell_{i,t}}{\\sum_i |o_i| \\text{ (whole accumulated batch)}}',
}

/** The importance weight, per token (GRPO) or per sequence (GSPO). */
export function ratioTex(c: WorksheetConfig): string {
  return c.importance_sampling_level === 'sequence'
    ? '\\rho_{i} = \\exp\\Big(\\tfrac{1}{|o_i|}\\textstyle\\sum_{t} \\big(\\log\\pi_\\theta(o_{i,t}) - \\log\\pi_{\\text{old}}(o_{i,t})\\big)\\Big)\\quad\\text{(one ratio per completion: GSPO)}'
    : '\\rho_{i,t} = \\exp\\big(\\log\\pi_\\theta(o_{i,t}) - \\log\\pi_{\\text{old}}(o_{i,t})\\big)'
}

/** TRL's per-token policy loss of the loss type (sg: no gradient flows through it). */
export function perTokenTex(c: WorksheetConfig): string {
  const rho = c.importance_sampling_level === 'sequence' ? '\\rho_{i}' : '\\rho_{i,t}'
  const clip = `\\operatorname{clip}(${rho}, 1-\\varepsilon, 1+\\varepsilon_{\\text{high}})`
  switch (c.loss_type) {
    case 'cispo': return `\\ell_{i,t} = -\\,\\operatorname{sg}\\big[\\min(${rho}, \\varepsilon_{\\text{high}})\\big]\\,A_i \\log\\pi_\\theta(o_{i,t})`
    case 'sapo': return `\\ell_{i,t} = -\\tfrac{4}{\\tau}\\,\\sigma\\big(\\tau(${rho} - 1)\\big)\\,A_i,\\quad \\tau = ${num(c.sapo_temperature_pos, 2)} \\text{ if } A_i > 0 \\text{ else } ${num(c.sapo_temperature_neg, 2)}`
    case 'vespo': return '\\ell_{i,t} = -\\,\\operatorname{sg}[\\varphi(w_i)]\\,A_i \\log\\pi_\\theta(o_{i,t}),\\quad \\varphi(w) = e^{\\lambda + k\\log w - \\lambda w},\\ ' +
      '\\log w_i = \\textstyle\\sum_t \\log\\tfrac{\\pi_\\theta}{\\pi_{\\text{old}}}\\ ' +
      `(k, \\lambda) = (${num(c.vespo_k_pos, 1)}, ${num(c.vespo_lambda_pos, 1)}) \\text{ if } A_i \\ge 0 \\text{ else } (${num(c.vespo_k_neg, 1)}, ${num(c.vespo_lambda_neg, 1)})`
    default: {
      const unclipped = c.delta > 0 ? `\\min(${rho}, \\delta = ${num(c.delta, 2)})` : rho
      return `\\ell_{i,t} = -\\min\\big(${unclipped} A_i,\\ ${clip} A_i\\big)`
    }
  }
}

/** The terms around the policy loss: the entropy mask, the KL penalty, the entropy bonus. */
export function extrasTex(c: WorksheetConfig): string[] {
  const out: string[] = []
  if (c.top_entropy_quantile < 1) {
    out.push(`\\ell_{i,t} \\leftarrow \\mathbb{1}\\big[H_{i,t} \\ge Q_{${num(1 - c.top_entropy_quantile, 2)}}(H)\\big]\\,\\ell_{i,t}\\quad\\text{(only the top ${num(100 * c.top_entropy_quantile, 0)}\\% entropy tokens)}`)
  }
  if (c.beta > 0) out.push(`\\ell_{i,t} \\leftarrow \\ell_{i,t} + \\beta\\,\\mathrm{KL}_{i,t},\\quad \\beta = ${num(c.beta, 3)}`)
  if (c.entropy_coef > 0) out.push(`\\mathcal{L} \\leftarrow \\mathcal{L} - ${num(c.entropy_coef, 3)}\\cdot \\overline{H}_{\\text{kept tokens}}`)
  return out
}
