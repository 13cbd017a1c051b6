// What the page starts from (and goes to on a new link in the same tab): the link parsed, its
// keys resolved, the preset it matches. Pure — no DOM, no React — so that a property test runs
// the page's own start-up path (test/unit/link-property.test.ts) on thousands of links.
import { type LinkProblem, parseLink } from '../lab/link'
import { presetOf } from '../lab/presets'
import { DEFAULT_RUN_CONFIG, resolvePartial, type RunConfig } from '../rl/config'

export interface LinkState {
  config: RunConfig
  presetId: string | null
  hidden: string[]
  autostart: boolean
  /** `lesson=<id>` (checked for shape only; the lesson file is fetched and validated by the page) */
  lesson: string | null
  /** `replay=1` */
  replay: boolean
  linkProblems: LinkProblem[]
  /** whether the address had a fragment at all (a saved run is shown only without one, or for the same config) */
  hasLink: boolean
}

/** The store's state from the address's fragment (location.hash). Never throws. */
export function linkState(hash: string): LinkState {
  const parsed = parseLink(hash)
  // parseLink refused what breaks a rule: this resolves without problems
  const { config } = resolvePartial(parsed.values)
  return {
    config, presetId: presetOf(config, DEFAULT_RUN_CONFIG)?.id ?? null, hidden: parsed.hidden, autostart: parsed.autostart, lesson: parsed.lesson, replay: parsed.replay,
    linkProblems: parsed.problems, hasLink: hash.length > 1,
  }
}
