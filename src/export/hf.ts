// A checkpoint as a Hugging Face model folder: the lab's GPT is GPT-2's architecture (pre-LN,
// gelu_new, learned positions, biases, LayerNorm eps 1e-5, attention scaled by 1/√headDim, an
// untied head), so the folder is a `gpt2` model that Python transformers and transformers.js load:
//   model.safetensors      Hugging Face's tensor names; Conv1D weights stored [in, out]; {"format": "pt"}
//   config.json            GPT2Config (tie_word_embeddings false), plus the lab's metadata under "grpo_lab"
//   generation_config.json EOS = the lab's end token; max_length = the context
//   tokenizer.json         the character tokenizer as a BPE without merges (see hfTokenizerJson)
//   tokenizer_config.json  PreTrainedTokenizerFast
//   onnx/model.onnx        src/export/onnx.ts with a KV cache (the Optimum layout transformers.js runs)
//   README.md              a model card
// src/model/hfFolder.ts reads such a folder back; the name mapping lives there (hfName).

import { strToU8, zipSync } from 'fflate'
import { type Checkpoint, encodeSafetensors } from '../model/checkpoint'
import { HF_EOS_TEXT, hfTensorsOf, type HfGpt2Config } from '../model/hfFolder'
import { EOS_ID } from '../model/tokenizer'
import { getTask, TASKS } from '../tasks/registry'
import { onnxFromCheckpoint } from './onnx'

/** What the model card says about where the model comes from (all optional). */
export interface ModelCardInfo {
  /** the run's settings (RunConfig), shown as JSON */
  runConfig?: Record<string, unknown>
  /** held-out pass@1 (greedy), with the number of problems */
  heldOut?: { passAt1: number; problems: number }
  /** the base model it was trained from, e.g. 'addition' */
  baseModel?: string
}

export function hfConfigJson(ck: Checkpoint): HfGpt2Config & Record<string, unknown> {
  const c = ck.config
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    vocab_size: c.vocabSize,
    n_positions: c.blockSize,
    n_ctx: c.blockSize,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: 4 * c.nEmbd,
    activation_function: 'gelu_new',
    layer_norm_epsilon: 1e-5,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: false,
    use_cache: true,
    bos_token_id: EOS_ID,
    eos_token_id: EOS_ID,
    torch_dtype: 'float32',
    'transformers.js_config': { dtype: 'fp32' },
    grpo_lab: { ...ck.metadata },
  }
}

/** The character tokenizer in tokenizers' JSON: a BPE whose vocabulary is the characters and that
 *  has no merges, so every character is one token; no normalizer and no pre-tokenizer (nothing
 *  adds or splits spaces); a Fuse decoder joins the characters back; EOS is a special added token. */
export function hfTokenizerJson(ck: Checkpoint): Record<string, unknown> {
  const vocab: Record<string, number> = { [HF_EOS_TEXT]: EOS_ID }
  Array.from(ck.tokenizer.chars).forEach((ch, i) => { vocab[ch] = i + 1 })
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: EOS_ID, content: HF_EOS_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: { type: 'Fuse' },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [],
    },
  }
}

function modelCard(ck: Checkpoint, info: ModelCardInfo): string {
  const task = ck.metadata.task ?? 'unknown'
  const c = ck.config
  const seed = ck.metadata.seed ?? (info.runConfig?.seed !== undefined ? String(info.runConfig.seed) : 'unknown')
  const heldOut = info.heldOut
    ? `${info.heldOut.passAt1.toFixed(3)} (greedy, ${info.heldOut.problems} held-out problems)`
    : 'not measured'
  // a real held-out prompt of the task, so the snippets run as written
  const prompt = Object.hasOwn(TASKS, task) ? getTask(task).problem('test', 1, 0).prompt : 'the prompt'
  const yaml = ['---', 'library_name: transformers', 'pipeline_tag: text-generation', 'tags: [gpt2, grpo, grpo-lab]']
  // no base_model key: the Hub reads it as a Hub model id, and the lab's bases are files (named below)
  yaml.push('---')
  return `${yaml.join('\n')}

# grpo-lab ${task} model

A tiny GPT-2 (${c.nLayer} layers, ${c.nHead} heads, width ${c.nEmbd}, context ${c.blockSize}, ${c.vocabSize} tokens) trained with
GRPO in grpo-lab on the task **${task}**, exported with \`grpo-lab export --format hf\`.

- Task: ${task}
- Base model: ${info.baseModel || 'fresh weights or unknown'}
- Training step: ${ck.metadata.step ?? 'unknown'}; seed: ${seed}
- Held-out pass@1: ${heldOut}
- Tokenizer: one token per character (${JSON.stringify(ck.tokenizer.chars)}), id ${EOS_ID} = \`${HF_EOS_TEXT}\` (end of text); no BOS, no padding token.

${info.runConfig ? `Run configuration:\n\n\`\`\`json\n${JSON.stringify(info.runConfig, null, 2)}\n\`\`\`\n` : ''}
## Use it

Python (transformers):

\`\`\`python
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained("./this-folder")
model = AutoModelForCausalLM.from_pretrained("./this-folder")
ids = tok("${prompt}", return_tensors="pt").input_ids
out = model.generate(ids, do_sample=False, max_length=${c.blockSize})  # up to the end of the context
print(tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True))
\`\`\`

JavaScript (transformers.js, ONNX in onnx/model.onnx):

\`\`\`js
import { env, pipeline } from '@huggingface/transformers'
env.allowRemoteModels = false
env.localModelPath = '/path/to/parent/'
const generator = await pipeline('text-generation', 'this-folder', { dtype: 'fp32' })
// max_new_tokens: null lets max_length (the context, ${c.blockSize}) bound the completion; the pipeline's
// default of 256 new tokens would run past the learned positions when no end token comes
const [out] = await generator('${prompt}', { do_sample: false, max_new_tokens: null })
console.log(out.generated_text)
\`\`\`

grpo-lab loads the folder back as a base model (\`base_model=./this-folder\`) or with
\`grpo-lab generate --model ./this-folder --prompt '${prompt}' --greedy\`.
`
}

/** The folder's files, by path inside it. */
export function hfFolderFiles(ck: Checkpoint, info: ModelCardInfo = {}): Map<string, Uint8Array> {
  const json = (v: unknown) => strToU8(JSON.stringify(v, null, 2) + '\n')
  const files = new Map<string, Uint8Array>()
  files.set('config.json', json(hfConfigJson(ck)))
  files.set('generation_config.json', json({ bos_token_id: EOS_ID, eos_token_id: EOS_ID, max_length: ck.config.blockSize, do_sample: false }))
  files.set('model.safetensors', encodeSafetensors(hfTensorsOf(ck), { format: 'pt' }))
  files.set('tokenizer.json', json(hfTokenizerJson(ck)))
  files.set('tokenizer_config.json', json({
    tokenizer_class: 'PreTrainedTokenizerFast', clean_up_tokenization_spaces: false, model_max_length: ck.config.blockSize,
    eos_token: HF_EOS_TEXT,
  }))
  files.set('onnx/model.onnx', onnxFromCheckpoint(ck, { kvCache: true }))
  files.set('README.md', strToU8(modelCard(ck, info)))
  return files
}

/** The folder as one .zip (the lab's download), files under `folder/`. */
export function hfFolderZip(ck: Checkpoint, folder: string, info: ModelCardInfo = {}): Uint8Array {
  const entries: Record<string, Uint8Array> = {}
  for (const [path, bytes] of hfFolderFiles(ck, info)) entries[`${folder}/${path}`] = bytes
  return zipSync(entries, { level: 6 })
}
