# The lab's Hugging Face folders (`grpo-lab export --format hf`) in Python's own stack: transformers
# and tokenizers load them and agree with the lab's engine (logits to 1e-4, greedy tokens exactly),
# ONNX Runtime runs their onnx/model.onnx with and without a KV cache, and a model changed and
# saved by transformers comes back into the lab (`grpo-lab eval`) scoring what Python scores.
import json
import re

import numpy as np
import onnxruntime as ort
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from conftest import SHIPPED, grpo_lab_json

TASKS = ["addition", "countdown"]
TOLERANCE = 1e-4
# documents in the tasks' pretraining forms (src/tasks/addition.ts, countdown.ts): worked steps,
# carries, a slip with " wait ", a search with a wrong try
WORKED = {
    "addition": ["047+085=?<think>7+5=12 c1 4+8+1=13 c1</think><answer>132</answer>",
                 "047+085=?<think>7+5=11 c1 wait 7+5=12 c1 4+8+1=13 c1</think><answer>132</answer>"],
    "countdown": ["[3,7,25,50]=79?<think>3*7+50-25=46 wait 50+25+7-3=79</think><answer>50+25+7-3</answer>",
                  "[2,8,40]=12?<think>(40-8)/2-8=8 wait 40/2-8=12</think><answer>(40/2)-8</answer>"],
}


def task_texts(held_out, task: str) -> list[str]:
    """Real prompts, prompt + the lab's completion, and worked documents: lengths 16 to 96."""
    rows = held_out[task]
    return [rows[0]["prompt"], *(r["prompt"] + r["completion"] for r in rows[1:4]), *WORKED[task]]


@pytest.fixture(scope="session")
def engine(held_out) -> dict[str, list[dict]]:
    """task id → `grpo-lab logits` of task_texts for the shipped model: the engine's token ids and
    logits per position."""
    out = {}
    for task in TASKS:
        args = [a for s in task_texts(held_out, task) for a in ("--text", s)]
        out[task] = grpo_lab_json("logits", "--model", str(SHIPPED[task]), *args)["results"]
    return out


def load(folder):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    return model, AutoTokenizer.from_pretrained(folder)


def batch_logits(model, sequences: list[list[int]]) -> list[np.ndarray]:
    """One forward pass over the sequences, right-padded (padding is masked and never compared)."""
    width = max(len(s) for s in sequences)
    ids = torch.tensor([s + [0] * (width - len(s)) for s in sequences])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in sequences])
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.numpy()
    return [logits[i, : len(s)] for i, s in enumerate(sequences)]


def greedy(model, tokenizer, prompt: str, max_new: int) -> list[int]:
    """transformers' greedy generate for one prompt: the new token ids, the end token included if
    it came (the folder's generation_config names it). max_length, as that config sets one."""
    ids = torch.tensor([tokenizer.encode(prompt)])
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_length=ids.shape[1] + max_new)
    return out[0, ids.shape[1]:].tolist()


def max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


@pytest.mark.parametrize("task", TASKS)
def test_transformers_loads_the_folder_as_an_untied_gpt2(folders, task):
    model, tokenizer = load(folders[task])
    assert type(model).__name__ == "GPT2LMHeadModel"
    assert model.config.tie_word_embeddings is False
    # the lab's head is its own matrix: a folder that ties it would hand transformers wte twice
    assert model.lm_head.weight.data_ptr() != model.transformer.wte.weight.data_ptr()
    assert not torch.equal(model.lm_head.weight, model.transformer.wte.weight)
    assert tokenizer.eos_token_id == model.config.eos_token_id == 0


@pytest.mark.parametrize("task", TASKS)
def test_tokenizer_round_trips_the_tasks_strings_with_the_labs_ids(folders, held_out, engine, task):
    _, tokenizer = load(folders[task])
    for text, lab in zip(task_texts(held_out, task), engine[task]):
        ids = tokenizer.encode(text)
        assert ids == lab["token_ids"], f"{text!r}: transformers' ids differ from the lab's"
        assert tokenizer.decode(ids) == text
    # a completion ending in the end token decodes to the lab's text without it
    row = held_out[task][1]
    assert tokenizer.decode(row["token_ids"], skip_special_tokens=True) == row["completion"]


@pytest.mark.parametrize("task", TASKS)
def test_logits_of_a_batch_equal_the_engines(folders, held_out, engine, task):
    model, _ = load(folders[task])
    ours = batch_logits(model, [r["token_ids"] for r in engine[task]])
    diffs = [max_diff(o, r["logits"]) for o, r in zip(ours, engine[task])]
    print(f"{task}: transformers vs engine, max |Δlogit| = {max(diffs):.2e} over {len(diffs)} texts")
    assert max(diffs) <= TOLERANCE, f"max |Δlogit| per text: {diffs}"


@pytest.mark.parametrize("task", TASKS)
def test_greedy_generate_gives_the_labs_tokens(folders, held_out, task):
    model, tokenizer = load(folders[task])
    prompts = [r["prompt"] for r in held_out[task][:4]]
    max_new = 48
    lab = grpo_lab_json("generate", "--model", str(SHIPPED[task]), *[a for p in prompts for a in ("--prompt", p)],
                        "--greedy", "--max-new-tokens", str(max_new))["completions"]
    for prompt, want in zip(prompts, lab):
        new = greedy(model, tokenizer, prompt, max_new)
        assert new == want["token_ids"], f"{prompt!r}: transformers {tokenizer.decode(new)!r}, lab {want['text']!r}"
        assert tokenizer.decode(new, skip_special_tokens=True) == want["text"]


def onnx_session(folder):
    return ort.InferenceSession(str(folder / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"])


def onnx_step(session, config, ids: list[int], past: dict | None, past_length: int):
    """One call of the decoder-with-past graph: `ids` after `past_length` cached positions."""
    head_dim = config.n_embd // config.n_head
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, past_length + len(ids)), dtype=np.int64),
        "position_ids": np.arange(past_length, past_length + len(ids), dtype=np.int64)[None],
    }
    for i in range(config.n_layer):
        for kv in ("key", "value"):
            name = f"past_key_values.{i}.{kv}"
            feeds[name] = past[name] if past else np.zeros((1, config.n_head, 0, head_dim), dtype=np.float32)
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, feeds)))
    present = {k.replace("present", "past_key_values"): v for k, v in outputs.items() if k.startswith("present.")}
    return outputs["logits"][0], present


@pytest.mark.parametrize("task", TASKS)
def test_onnx_runtime_with_and_without_past_gives_the_engines_logits(folders, engine, task):
    config = AutoModelForCausalLM.from_pretrained(folders[task]).config
    session = onnx_session(folders[task])
    inputs = {i.name for i in session.get_inputs()}
    assert {"input_ids", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value"} <= inputs
    whole, cached = [], []
    for lab in engine[task]:
        ids = lab["token_ids"]
        # without past: every position at once, from an empty cache
        logits, _ = onnx_step(session, config, ids, None, 0)
        whole.append(max_diff(logits, lab["logits"]))
        # with past: the first half at once, then one token a call, each reading the cache
        split = len(ids) // 2
        logits, past = onnx_step(session, config, ids[:split], None, 0)
        steps = [logits]
        for t in range(split, len(ids)):
            logits, past = onnx_step(session, config, [ids[t]], past, t)
            steps.append(logits)
        cached.append(max_diff(np.concatenate(steps), lab["logits"]))
    print(f"{task}: onnxruntime vs engine, max |Δlogit| = {max(whole):.2e} without past, {max(cached):.2e} with past")
    assert max(whole) <= TOLERANCE, f"without past, per text: {whole}"
    assert max(cached) <= TOLERANCE, f"with past, per text: {cached}"


# --- the way back: a model changed and saved by transformers, scored by the lab -----------------

# src/tasks/addition.ts: maxCompletionLength; the prompt shows both operands zero-padded to 3 digits
ADDITION_MAX_COMPLETION = 96


def addition_accuracy(completion: str, a: int, b: int) -> int:
    """src/tasks/addition.ts additionAccuracy: 1 when the last <answer>…</answer> (answer.ts: lazy,
    not across a newline) is digits alone, spaces around allowed, equal to a+b."""
    answers = re.findall(r"<answer>([^\n]*?)</answer>", completion)
    if not answers:
        return 0
    m = re.fullmatch(r" *([0-9]+) *", answers[-1])
    return int(m is not None and int(m.group(1)) == a + b)


def greedy_completions(model, tokenizer, prompts: list[str], max_new: int) -> list[str]:
    return [tokenizer.decode(greedy(model, tokenizer, p, max_new), skip_special_tokens=True) for p in prompts]


def test_a_model_saved_by_transformers_scores_in_the_lab_what_python_scores(folders, tmp_path):
    model, tokenizer = load(folders["addition"])
    # change every weight a little (fixed seed), so that the lab can only score it by reading it
    generator = torch.Generator().manual_seed(12)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.15 * p.std() * torch.randn(p.shape, generator=generator))
    changed = tmp_path / "changed"
    model.save_pretrained(changed)
    tokenizer.save_pretrained(changed)

    n = 24
    out = tmp_path / "completions.jsonl"
    metrics = grpo_lab_json("eval", "--task", "addition", "--model", str(changed), "--n", str(n), "--k", "0",
                            "--completions-out", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert len(rows) == n
    for r in rows:
        a, b = r["problem"]["a"], r["problem"]["b"]
        assert r["prompt"] == f"{a:03d}+{b:03d}=?<think>"
    prompts = [r["prompt"] for r in rows]
    max_new = min(ADDITION_MAX_COMPLETION, model.config.n_positions - max(len(p) for p in prompts))

    ours = greedy_completions(model, tokenizer, prompts, max_new)
    assert ours == [r["completion"] for r in rows]
    pass_at_1 = sum(addition_accuracy(c, r["problem"]["a"], r["problem"]["b"]) for c, r in zip(ours, rows)) / n
    print(f"changed model: pass@1 {pass_at_1} in Python, {metrics['eval/pass@1']} in the lab")
    assert metrics["eval/pass@1"] == pass_at_1
    assert [r["correct"] for r in rows] == [bool(addition_accuracy(c, r["problem"]["a"], r["problem"]["b"])) for c, r in zip(ours, rows)]

    # the change mattered: the exported model, unchanged, completes some of these differently
    original, _ = load(folders["addition"])
    assert greedy_completions(original, tokenizer, prompts, max_new) != ours
