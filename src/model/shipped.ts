// The models shipped in public/models/ (base models, and trained policies such as addition-grpo), by the name a config gives them (base_model=addition):
// what a run configuration can be checked against before any file is fetched — the model's
// context length and its tokenizer's characters. test/unit/models.test.ts checks this table
// against every manifest on disk, so a new shipped model cannot be forgotten here.
import addition from '../../public/models/addition.json' with { type: 'json' }
import additionFormatNoise from '../../public/models/addition-format-noise.json' with { type: 'json' }
import additionGrpo from '../../public/models/addition-grpo.json' with { type: 'json' }
import countdown from '../../public/models/countdown.json' with { type: 'json' }
import countdownGrpo from '../../public/models/countdown-grpo.json' with { type: 'json' }

export interface ShippedModel {
  /** the task it was pretrained for */
  task: string
  /** its context length: it overrides the config's block_size */
  blockSize: number
  /** the characters its tokenizer knows */
  chars: string
}

export const SHIPPED_MODELS: Readonly<Record<string, ShippedModel>> = Object.fromEntries(
  [addition, additionFormatNoise, additionGrpo, countdown, countdownGrpo].map((m) => [m.file.replace(/\.safetensors$/, ''), { task: m.task, blockSize: m.config.blockSize, chars: m.tokenizer.chars }]),
)

export function shippedModel(name: string): ShippedModel | undefined {
  // own keys only: "constructor" must not find Object's members
  return Object.hasOwn(SHIPPED_MODELS, name) ? SHIPPED_MODELS[name] : undefined
}
