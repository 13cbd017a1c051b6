// Every link opens a working lab: 10 000 generated fragments (real keys with valid, edge and junk
// values, duplicates, unknown keys, lesson keys, other versions) through the page's own start-up
// path — linkState, what the store's initial state is made of. Seeded: a failure prints its seed
// and path, and fc.assert with them replays it.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeLink, HIDEABLE_PANELS, parseLink } from '../../src/lab/link'
import { presetOf } from '../../src/lab/presets'
import { DEFAULT_RUN_CONFIG, resolvePartial, RUN_CONFIG_SPEC, type RunConfig } from '../../src/rl/config'
import { linkState } from '../../src/store/linkState'

const KEYS = Object.keys(RUN_CONFIG_SPEC) as (keyof RunConfig)[]
const RUNS = 10_000
const SEED = 20261201

/** Values for one key: in range, at and past the edges, and junk. */
function valueFor(key: keyof RunConfig): fc.Arbitrary<string> {
  // a key set to its default is a case of its own (epsilon_high=0.2 with another epsilon)
  const byDefault = fc.constant(String(DEFAULT_RUN_CONFIG[key]))
  return fc.oneof({ weight: 1, arbitrary: byDefault }, { weight: 6, arbitrary: valuesOf(key) })
}

function valuesOf(key: keyof RunConfig): fc.Arbitrary<string> {
  const spec = RUN_CONFIG_SPEC[key]
  const junk = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', ' ', 'NaN', 'Infinity', '-0', '1e309', '0x10', '1,2', 'true', '%zz', '<b>', 'null'))
  switch (spec.kind) {
    case 'int': {
      const nearEdges = fc.constantFrom(spec.min, spec.max, spec.min - 1, spec.max + 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 30, 64, 98, 100).map(String)
      return fc.oneof({ weight: 3, arbitrary: fc.integer({ min: spec.min, max: Math.min(spec.max, spec.min + 600) }).map(String) },
        { weight: 3, arbitrary: nearEdges }, { weight: 1, arbitrary: fc.double().map(String) }, { weight: 1, arbitrary: junk })
    }
    case 'float':
      return fc.oneof({ weight: 3, arbitrary: fc.double({ min: spec.min, max: spec.max, noNaN: true }).map(String) },
        { weight: 1, arbitrary: fc.constantFrom(spec.min, spec.max, -1, spec.max * 2, 1e-7).map(String) }, { weight: 1, arbitrary: junk })
    case 'bool': return fc.oneof(fc.constantFrom('true', 'false'), junk)
    case 'enum': return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...spec.values) }, { weight: 1, arbitrary: junk })
    case 'string': // base_model
      return fc.constantFrom('', 'addition', 'countdown', 'echo', 'no-such', 'models/x.safetensors', 'https://example.invalid/m.safetensors', 'a b', '../../etc', 'x'.repeat(201))
    case 'floats':
      return fc.oneof(fc.array(fc.double({ min: -12, max: 12, noNaN: true }), { maxLength: 10 }).map((xs) => xs.join(',')), junk)
  }
}

const configPair = fc.constantFrom(...KEYS).chain((key) => valueFor(key).map((value) => [key as string, value] as const))
// keys that meet in cross-key rules, drawn more often so that conflicts are common
const ruleKeys = ['n_head', 'n_embd', 'steps_per_generation', 'gradient_accumulation_steps', 'num_generations', 'prompts_per_step',
  'max_completion_length', 'block_size', 'base_model', 'task', 'reward_weights', 'cold_start_steps'] as const
const rulePair = fc.constantFrom(...ruleKeys).chain((key) => valueFor(key).map((value) => [key as string, value] as const))
const otherPair = fc.oneof(
  fc.tuple(fc.string({ maxLength: 50 }), fc.string({ maxLength: 8 })), // unknown keys (and junk)
  fc.tuple(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'), fc.string({ maxLength: 4 })),
  fc.tuple(fc.constantFrom(...KEYS, ...HIDEABLE_PANELS, 'bogus').map((k) => `${k}_hide`), fc.constantFrom('1', '0', 'yes', '')),
  fc.tuple(fc.constant('autostart'), fc.constantFrom('1', '0', 'true', '')),
)
const pairs = fc.array(fc.oneof({ weight: 4, arbitrary: rulePair }, { weight: 3, arbitrary: configPair }, { weight: 1, arbitrary: otherPair }), { maxLength: 10 })
const encode = (s: string) => encodeURIComponent(s)

/** A fragment as a person or a program might write one. */
const fragments = fc.tuple(
  fc.constantFrom('#v=1&', '#v=1&', '#v=1&', '#', '#v=2&', '#v=&', 'https://lab.example/#v=1&', '?v=1&'),
  pairs, fc.boolean(),
  // keys sometimes repeated, sometimes not percent-encoded at all
).map(([head, kvs, raw]) => head + kvs.map(([k, v]) => (raw ? `${k}=${v}` : `${encode(k)}=${encode(v)}`)).join('&'))

/** The keys a fragment names (as URLSearchParams reads them), and what they were set to. */
function namedKeys(fragment: string): Set<string> {
  const hash = fragment.indexOf('#')
  const text = hash >= 0 ? fragment.slice(hash + 1) : fragment.replace(/^[?]/, '')
  return new Set(Array.from(new URLSearchParams(text.trim()).keys(), (k) => k.slice(0, 40)))
}

describe('every link opens a working lab (property)', () => {
  it(`${RUNS} generated links: start-up never throws, the config is valid, each refused key is named, and the link round-trips`, () => {
    let conflicts = 0
    fc.assert(fc.property(fragments, (fragment) => {
      const state = linkState(fragment) // must not throw
      const named = namedKeys(fragment)
      // the resolved config is valid: resolving it again refuses nothing and changes nothing
      const again = resolvePartial(state.config as never)
      assert.deepStrictEqual(again.problems, [])
      assert.deepStrictEqual(again.config, state.config)
      assert.strictEqual(state.presetId, presetOf(state.config, DEFAULT_RUN_CONFIG)?.id ?? null)
      // a problem names a key the link named — never one it did not
      for (const p of state.linkProblems) {
        assert.ok(named.has(p.key), `${p.key} was refused but the link did not name it`)
        assert.ok(p.message.startsWith(`${p.key}: `) || p.key === 'v', `the message names its key: ${p.message}`)
      }
      if (state.linkProblems.some((p) => / do not split | does not divide | more than | has no tokens | reward functions | no worked examples/.test(p.message))) conflicts++
      const problemKeys = new Set(state.linkProblems.map((p) => p.key))
      if (!problemKeys.has('v')) { // another version: the whole link is refused, in one problem
        // each key the link named is used as given, or named in a problem
        const parsed = parseLink(fragment)
        for (const key of named) {
          if (key === 'v' || key === 'autostart' || key.endsWith('_hide')) continue
          if (Object.hasOwn(parsed.values, key)) assert.deepStrictEqual(state.config[key as keyof RunConfig], parsed.values[key as keyof RunConfig])
          else assert.ok(problemKeys.has(key), `${key} was dropped without a problem`)
        }
      }
      // the lab's own link for this state reads back as the same state, with no problems
      const link = encodeLink(state.config, state.hidden, state.autostart)
      const back = linkState(link)
      assert.deepStrictEqual(back.linkProblems, [])
      assert.deepStrictEqual(back.config, state.config)
      assert.deepStrictEqual(back.hidden, state.hidden)
      assert.strictEqual(back.autostart, state.autostart)
    }), { numRuns: RUNS, seed: SEED })
    // the generator reaches the cross-key rules often, not by luck
    expect(conflicts).toBeGreaterThan(RUNS / 20)
  })
})
