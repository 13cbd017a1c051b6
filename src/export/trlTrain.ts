// train.py and README.md of a TRL project (src/export/trl.ts): GRPOConfig written from the mapping's
// rows, GRPOTrainer with the task's reward functions, and the lab's evaluation (held-out pass@1,
// greedy) in a GRPOTrainer subclass that Trainer's own eval_steps schedule calls.
import type { RunConfig } from '../rl/config'
import type { Task } from '../tasks/types'
import { TRL_FIELDS, trlBatch, type TrlGroup } from './trl'
import { PYTHON_REWARDS } from './trlRewards'

/** `text` as comment lines of at most `width` characters, each starting with `prefix`. */
function commentLines(text: string, prefix: string, width = 100): string[] {
  const out: string[] = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && prefix.length + line.length + 1 + word.length > width) { out.push(prefix + line); line = word } else line = line ? `${line} ${word}` : word
  }
  if (line) out.push(prefix + line)
  return out
}

const GROUPS: Record<TrlGroup, string> = {
  run: 'the run: rollouts, microbatches, length, evaluation',
  sampling: 'sampling the rollouts',
  loss: 'the GRPO loss and its rewards',
  optimizer: 'the optimizer and its schedule',
  numerics: 'numerics and logging, as in the lab',
}

/** The body of GRPOConfig(...): every written row, its comment above it, by group. */
function configArguments(c: RunConfig): string[] {
  const b = trlBatch(c)
  const out: string[] = []
  for (const group of Object.keys(GROUPS) as TrlGroup[]) {
    out.push(`        # ---- ${GROUPS[group]} ----`)
    for (const f of TRL_FIELDS.filter((x) => x.group === group && x.value)) {
      const from = f.keys.length ? `lab ${f.keys.map((k) => `${k} = ${JSON.stringify(c[k])}`).join(', ')}: ` : f.fixedValue ? 'fixed: ' : ''
      out.push(...commentLines(from + f.how, '        # '))
      out.push(`        ${f.field}=${f.value!(c, b)},`)
    }
  }
  return out
}

/** train.py for the run. */
export function trainPy(c: RunConfig, task: Task, notes: string[]): string {
  const b = trlBatch(c)
  const overlong = c.overlong_buffer_length > 0
  const hasFormat = PYTHON_REWARDS[task.id].hasFormat
  return `"""GRPO on grpo-lab's task "${task.id}" with TRL's GRPOTrainer: the lab's run, exported.

\`grpo-lab export --format trl\` wrote this from the run in lab_config.json; README.md says how to
run it on one CPU, one GPU or many, and what differs from the lab.

    python train.py                                     # the whole run: ${b.maxSteps} optimizer steps
    python train.py --max_steps 2 --output_dir /tmp/try   # a first look
    accelerate launch --num_processes 8 train.py
"""
import argparse
import functools
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # rewards.py, wherever train.py is started from

import torch  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402
${overlong ? 'from trl.rewards import get_soft_overlong_punishment  # noqa: E402\n' : ''}
import rewards  # noqa: E402

# The lab's run in its own units (lab_config.json has every key).
LAB_MAX_STEPS = ${c.max_steps}  # GRPO steps: a rollout of ${b.rollout} completions and its updates each
OPTIMIZER_STEPS_PER_ROLLOUT = ${b.optimizerStepsPerRollout}  # num_iterations ${c.num_iterations} × steps_per_generation ${c.steps_per_generation}
PER_DEVICE_TRAIN_BATCH_SIZE = ${b.perDevice}  # a microbatch: the rollout / (steps_per_generation × gradient_accumulation_steps)
NUM_GENERATIONS = ${c.num_generations}
MAX_COMPLETION_LENGTH = ${c.max_completion_length}
EVAL_EVERY = ${c.eval_every}  # GRPO steps between held-out evaluations; 0 = once, after the run
EVAL_PROBLEMS = ${c.eval_problems}  # held-out problems per evaluation: data/eval.jsonl
END_TOKEN_ID = 0  # <|end|>: the tokenizer's end of text (TRL pads with it too)
HAS_FORMAT = ${hasFormat ? 'True' : 'False'}  # the task's template has the format check (eval/format_rate)

# What the lab's settings became in TRL, and those GRPOConfig has no field for:
${notes.flatMap((n) => commentLines(n, '#   ')).join('\n')}


def grpo_config(args) -> GRPOConfig:
    """Every value the lab's run decides, written out; TRL's defaults stand only where the lab has
    nothing that corresponds (README.md's table lists every field)."""
    return GRPOConfig(
${configArguments(c).join('\n')}
    )


def reward_funcs() -> list:
    """The task's reward functions in reward_weights' order (logged as rewards/<name>/mean)."""
    return [
        *rewards.REWARD_FUNCS,
${overlong ? `        # DAPO's soft overlong punishment: 0 up to ${c.max_completion_length - c.overlong_buffer_length} tokens, then down to -1 at ${c.max_completion_length}\n` +
  `        get_soft_overlong_punishment(max_completion_len=${c.max_completion_length}, soft_punish_cache=${c.overlong_buffer_length}),\n` : ''}    ]


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def positions_from_mask(model):
    """GPT-2's learned positions counted from each row's first real token, on every forward pass.

    TRL left-pads the prompts of a batch and computes the loss's log-probs without position ids;
    GPT-2 would then read a padded row at shifted positions (rotary models do not mind, learned
    absolute positions do), unlike generate(), which passes positions from the attention mask.
    The lab never pads, so this puts TRL's training passes where its sampling and the lab are."""
    forward = model.forward

    @functools.wraps(forward)
    def forward_from_first_token(*args, attention_mask=None, position_ids=None, past_key_values=None, **kwargs):
        if position_ids is None and attention_mask is not None and past_key_values is None:
            position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        return forward(*args, attention_mask=attention_mask, position_ids=position_ids, past_key_values=past_key_values, **kwargs)

    model.forward = forward_from_first_token
    return model


_REFLECTION = re.compile(r"\\b(wait|check|recheck|verify|hmm|mistake|oops)\\b", re.IGNORECASE | re.ASCII)


@torch.no_grad()
def held_out_metrics(model, tokenizer, rows: list[dict]) -> dict[str, float]:
    """The lab's evaluation: greedy completions of the held-out problems, pass@1 by rewards.is_correct,
    mean length in tokens (the end token counted), reflection and format rates."""
    was_training = model.training
    model.eval()
    prompts = [tokenizer(r["prompt"], add_special_tokens=False)["input_ids"] for r in rows]
    # never more than the context leaves after the longest prompt, as the lab
    max_new = max(1, min(MAX_COMPLETION_LENGTH, model.config.n_positions - max(len(p) for p in prompts)))
    completions: list[list[int]] = [[] for _ in rows]
    by_length: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_length.setdefault(len(p), []).append(i)
    for idx in by_length.values():  # prompts of one length need no padding
        for start in range(0, len(idx), 256):
            chunk = idx[start:start + 256]
            x = torch.tensor([prompts[i] for i in chunk], device=model.device)
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, max_new_tokens=max_new,
                                 eos_token_id=END_TOKEN_ID, pad_token_id=END_TOKEN_ID)
            for i, ids in zip(chunk, out[:, x.shape[1]:].tolist(), strict=True):
                completions[i] = ids[: ids.index(END_TOKEN_ID) + 1] if END_TOKEN_ID in ids else ids
    model.train(was_training)
    texts = [tokenizer.decode(ids, skip_special_tokens=True) for ids in completions]
    n = len(rows)
    metrics = {
        "eval/pass@1": sum(rewards.is_correct(t, r) for t, r in zip(texts, rows, strict=True)) / n,
        "eval/mean_length": sum(len(ids) for ids in completions) / n,
        "eval/reflection_rate": sum(bool(_REFLECTION.search(t)) for t in texts) / n,
    }
    if HAS_FORMAT:
        metrics["eval/format_rate"] = sum(rewards.is_well_formed(t) for t in texts) / n
    return metrics


class LabGRPOTrainer(GRPOTrainer):
    """GRPOTrainer whose evaluation is the lab's held-out pass@1 (greedy) instead of sampled rewards.
    Trainer calls it every eval_steps optimizer steps and after the last one."""

    def __init__(self, *args, eval_rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.eval_rows = eval_rows

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        metrics = held_out_metrics(self.accelerator.unwrap_model(self.model), self.processing_class, self.eval_rows)
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


def positive_int(text: str) -> int:
    if not re.fullmatch(r"[1-9][0-9]*", text):
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: an integer of 1 or more")
    return int(text)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="GRPO with TRL on grpo-lab's task ${task.id} (README.md says more).")
    p.add_argument("--max_steps", type=positive_int, default=LAB_MAX_STEPS * OPTIMIZER_STEPS_PER_ROLLOUT,
                   help="TRL optimizer steps (default %(default)s: the lab's LAB_MAX_STEPS GRPO steps × OPTIMIZER_STEPS_PER_ROLLOUT)")
    p.add_argument("--output_dir", default=str(HERE / "output"), help="logs and the trained model (default %(default)s)")
    p.add_argument("--per_device_train_batch_size", type=positive_int, default=PER_DEVICE_TRAIN_BATCH_SIZE,
                   help="completions per microbatch and process (default %(default)s; on N processes, divide by N to keep the lab's rollout)")
    p.add_argument("--eval_problems", type=positive_int, default=EVAL_PROBLEMS,
                   help="held-out problems per evaluation, the first of data/eval.jsonl (default %(default)s)")
    p.add_argument("--use_vllm", action="store_true", help="generate with vLLM (pip install vllm)")
    p.add_argument("--vllm_mode", choices=["colocate", "server"], default="colocate",
                   help="with --use_vllm: in this process (colocate) or a running \`trl vllm-serve --model model\` (server)")
    args = p.parse_args(argv)
    if args.eval_problems > EVAL_PROBLEMS:
        p.error(f"--eval_problems: got {args.eval_problems}; allowed: 1 to {EVAL_PROBLEMS} (the problems in data/eval.jsonl)")
    return args


def main(argv=None) -> dict[str, float]:
    args = parse_args(argv)
    tokenizer = AutoTokenizer.from_pretrained(str(HERE / "model"))
    model = positions_from_mask(AutoModelForCausalLM.from_pretrained(str(HERE / "model"), dtype=torch.float32))
    eval_rows = read_jsonl(HERE / "data" / "eval.jsonl")[: args.eval_problems]
    trainer = LabGRPOTrainer(
        model=model,
        processing_class=tokenizer,
        args=grpo_config(args),
        reward_funcs=reward_funcs(),
        train_dataset=Dataset.from_list(read_jsonl(HERE / "data" / "train.jsonl")),
        eval_dataset=Dataset.from_list(eval_rows),
        eval_rows=eval_rows,
    )
    if trainer.ref_model is not None:  # beta > 0: TRL loads the reference from model/ itself
        positions_from_mask(trainer.accelerator.unwrap_model(trainer.ref_model))
    trainer.train()
    if EVAL_EVERY == 0:
        final = trainer.evaluate()
    else:  # Trainer evaluated after the last step
        final = next(entry for entry in reversed(trainer.state.log_history) if "eval/pass@1" in entry)
    trainer.save_model(args.output_dir)
    if trainer.is_world_process_zero():
        with open(Path(args.output_dir) / "log_history.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps(entry) + "\\n" for entry in trainer.state.log_history)
        print(json.dumps({k: v for k, v in final.items() if k.startswith("eval/")}))
    return final


if __name__ == "__main__":
    main()
`
}

/** The project's README: how to run it, and what to expect to differ from the lab. */
export function projectReadme(c: RunConfig, task: Task, notes: string[], modelFrom: string): string {
  const b = trlBatch(c)
  const eightOk = b.perDevice % 8 === 0
  return `# grpo-lab → TRL: ${task.id}, seed ${c.seed}

A grpo-lab run as a TRL project: GRPO on the lab's task **${task.id}** with TRL's \`GRPOTrainer\`,
written by \`grpo-lab export --format trl\`.

| file | what |
|---|---|
| \`model/\` | the model it starts from (${modelFrom}) as a Hugging Face \`gpt2\` folder; n_positions = its context |
| \`data/train.jsonl\` | ${c.max_steps * c.prompts_per_step} prompts of the train split in the lab's order for seed ${c.seed} (max_steps ${c.max_steps} × prompts_per_step ${c.prompts_per_step}), with the columns the rewards read |
| \`data/eval.jsonl\` | the ${c.eval_problems} held-out problems the lab's evaluation scores |
| \`rewards.py\` | the task's reward functions in Python (TRL's signature), scoring exactly as the lab's |
| \`train.py\` | \`GRPOConfig\` with every value the run decides, \`GRPOTrainer\`, the lab's held-out pass@1 |
| \`lab_config.json\` | the lab's run configuration, every key |

## Run it

\`\`\`sh
pip install -r requirements.txt     # CPU-only torch: add --extra-index-url https://download.pytorch.org/whl/cpu
python train.py --max_steps 2 --output_dir /tmp/try   # a first look: TRL's metrics every optimizer step
\`\`\`

- **One CPU**: \`CUDA_VISIBLE_DEVICES= python train.py\`. The model is tiny; most of a step is
  generation (${b.rollout} completions of up to ${c.max_completion_length} tokens per rollout).
- **One GPU**: \`python train.py\` (Accelerate puts the model on the GPU).
- **Many GPUs**: \`accelerate launch --num_processes 8 train.py\`. Each process samples its own
  per_device_train_batch_size completions per microbatch, so a rollout grows to 8 × ${b.rollout}
  completions (8 × ${c.prompts_per_step} prompts) and an optimizer step sees 8 microbatches.
  ${eightOk ? `To keep the lab's rollout of ${b.rollout}, give each process an eighth: \`--per_device_train_batch_size ${b.perDevice / 8}\`.`
    : `The lab's rollout of ${b.rollout} does not split into 8 equal microbatches of whole groups here; keep the larger rollout, or change prompts_per_step.`}
  TRL needs per_device_train_batch_size × processes × steps_per_generation (${b.microbatches}) to be a multiple of num_generations (${c.num_generations}).
- **With vLLM generation** (\`pip install vllm\`): \`python train.py --use_vllm\` (vLLM in the same
  process, \`vllm_mode="colocate"\`), or a server on one GPU and training on the rest:
  \`\`\`sh
  CUDA_VISIBLE_DEVICES=0 trl vllm-serve --model model &
  CUDA_VISIBLE_DEVICES=1,2,3,4,5,6,7 accelerate launch --num_processes 7 train.py --use_vllm --vllm_mode server
  \`\`\`
  TRL then also corrects for the gap between vLLM's sampling log-probs and its own
  (vllm_importance_sampling_correction, on by default), which the lab has no need for.

\`--max_steps\` counts TRL's optimizer steps: the lab's ${c.max_steps} GRPO steps are ${b.maxSteps}
(× num_iterations ${c.num_iterations} × steps_per_generation ${c.steps_per_generation}). A longer run
goes through data/train.jsonl again (the lab would draw new problems). \`output_dir\` gets the trained
model (a folder the lab loads back as a base model) and \`log_history.jsonl\`; the held-out
evaluation (\`eval/pass@1\`, greedy, as the lab's) is logged ${c.eval_every > 0 ? `every ${b.evalSteps} optimizer steps (the lab's eval_every = ${c.eval_every}) and after the last` : 'once, after the run (the lab\'s eval_every is 0)'}.

## What is the same

The prompts (same seed, same splits, same order: \`shuffle_dataset=False\`), the reward functions
(the lab's test suite scores thousands of random completions both ways and compares every score),
the model and its tokenizer (the lab checks transformers' logits against its own), and every knob
of the GRPO loss, the optimizer and its schedule that both have (train.py writes them all out).

## What differs from the lab

- **Sampling**: TRL samples with torch's generator (transformers' \`generate\`, or vLLM), the lab
  with its own counter-based one: the same seed gives other completions, so runs agree in
  distribution, not sample for sample.
- **Float order**: PyTorch's kernels sum in other orders than the lab's WebGPU and CPU kernels, so
  logits, losses and gradients agree to float32 rounding, not bit for bit, and runs drift apart.
- **Minibatches**: TRL shuffles the generation batch before splitting it into microbatches; the lab
  splits the rollout in order. With steps_per_generation × gradient_accumulation_steps = 1 (here
  ${b.microbatches}) it makes no difference.
- **dapo, cispo and vespo normalisation**: TRL divides by the generation batch's completion tokens
  ÷ steps_per_generation, the lab by each optimizer step's own token count; the same when the lab's
  steps_per_generation is 1 (here ${c.steps_per_generation}).
- **Positions**: TRL left-pads a batch's prompts; train.py's \`positions_from_mask\` makes GPT-2
  count positions from each prompt's first token in the training passes too (\`generate\` does so already).
- **Logging**: TRL logs every optimizer step under its own names (\`reward\`, \`reward_std\`,
  \`rewards/<fn>/mean\`, \`kl\` when beta > 0, \`entropy\`, \`clip_ratio/…\`, \`completions/mean_length\`,
  \`loss\`, …); the lab's own metrics (accuracy of the batch, reflection rate, dispatches) are not there,
  the held-out ones (\`eval/…\`) are.

## The settings

${notes.map((n) => `- ${n}`).join('\n')}
`
}
