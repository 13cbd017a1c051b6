// KaTeX strings for the worksheet, built only from numbers formatted here and fixed text:
// nothing a user, a link or a file wrote ever reaches KaTeX or the HTML.
import katex from 'katex'
import type { LossType } from '../../rl/loss'

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
