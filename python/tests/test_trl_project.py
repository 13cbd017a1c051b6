# The TRL project `grpo-lab export --format trl` writes, in TRL's own stack: its rewards.py scores
# thousands of random completions per task exactly as the lab's TypeScript does (the lab scores them
# in scripts/reward-cases.ts), TRL's soft overlong punishment is the lab's, README's table names every
# field GRPOConfig declares, train.py's GRPOConfig derives the lab's batch arithmetic, its positions
# fix gives a left-padded prompt the unpadded one's logits, and train.py trains 2 optimizer steps on
# the CPU logging TRL's metrics and the lab's held-out pass@1.
import dataclasses
import importlib.util
import json
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from conftest import ROOT, grpo_lab, grpo_lab_json

CASES_PER_TASK = 3000
# a countdown run small enough for 2 steps on a shared CPU, with every mapping that matters on:
# beta > 0 (kl, a reference model), μ = 2, the lab's steps_per_generation 2 × gradient accumulation 2
# (TRL's steps_per_generation 4 microbatches of 4), the soft overlong punishment, evaluation every step
TINY_COUNTDOWN = {
    "task": "countdown", "base_model": "countdown", "seed": 3, "prompts_per_step": 4, "num_generations": 4,
    "max_completion_length": 64, "beta": 0.04, "num_iterations": 2, "steps_per_generation": 2,
    "gradient_accumulation_steps": 2, "epsilon_high": 0.28, "overlong_buffer_length": 16,
    "overlong_penalty_factor": 0.5, "max_steps": 3, "eval_every": 1, "eval_problems": 8, "use_bias_correction_kl": False,
}
ECHO_LINK = "#v=1&task=echo&base_model=&n_layer=1&n_head=2&n_embd=32&block_size=16&max_completion_length=4&max_steps=5&eval_problems=16"


@pytest.fixture(scope="session")
def projects(tmp_path_factory) -> dict[str, Path]:
    """task id → a project `grpo-lab export --format trl` wrote: the default addition run, the tiny
    countdown run, and echo from fresh weights."""
    root = tmp_path_factory.mktemp("trl")
    config = root / "countdown.json"
    config.write_text(json.dumps(TINY_COUNTDOWN))
    out = {t: root / t for t in ("addition", "countdown", "echo")}
    grpo_lab("export", "--format", "trl", "--out", str(out["addition"]))
    grpo_lab("export", "--format", "trl", "--config", str(config), "--out", str(out["countdown"]))
    grpo_lab("export", "--format", "trl", "--link", ECHO_LINK, "--out", str(out["echo"]))
    return out


@pytest.fixture(scope="session")
def lab_scores(tmp_path_factory) -> Path:
    """The lab's scores of CASES_PER_TASK random completions per task, and its overlong punishment."""
    out = tmp_path_factory.mktemp("reward-cases")
    r = subprocess.run(["node", "--import", "tsx", "scripts/reward-cases.ts", str(out), str(CASES_PER_TASK)],
                       cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"scripts/reward-cases.ts exited {r.returncode}:\n{r.stderr[-3000:]}")
    return out


def read_jsonl(path: Path) -> list[dict]:
    # split("\n") alone: splitlines() would also cut at \x1c, \x85 and \u2028, which JSON leaves in strings
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def import_from(path: Path, name: str):
    """A project's module by path, under a name of its own (each project has a rewards.py)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def train_module(project: Path, name: str):
    """A project's train.py as a module, with its own rewards.py as `rewards`."""
    sys.modules.pop("rewards", None)
    try:
        return import_from(project / "train.py", name)
    finally:
        sys.modules.pop("rewards", None)


@pytest.mark.parametrize("task", ["addition", "countdown", "echo"])
def test_rewards_py_scores_every_random_completion_as_the_lab(projects, lab_scores, task):
    rewards = import_from(projects[task] / "rewards.py", f"rewards_{task}")
    cases = read_jsonl(lab_scores / f"{task}.jsonl")
    assert len(cases) == CASES_PER_TASK
    # called as GRPOTrainer calls them: every dataset column as a keyword list
    columns = {k: [c["row"][k] for c in cases] for k in cases[0]["row"]}
    completions = [c["completion"] for c in cases]
    names = [f.__name__ for f in rewards.REWARD_FUNCS]
    assert names == list(cases[0]["scores"])
    for f in rewards.REWARD_FUNCS:
        got = f(prompts=[""] * len(cases), completions=completions, completion_ids=[[]] * len(cases), **columns)
        wrong = [(c["completion"], c["row"], g, c["scores"][f.__name__]) for c, g in zip(cases, got) if g != c["scores"][f.__name__]]
        assert not wrong, f"{task} {f.__name__}: {len(wrong)} of {len(cases)} differ from the lab, e.g. {wrong[:3]}"
        # the cases reach every score the function gives, each for a good share, not only garbage's 0
        seen = Counter(c["scores"][f.__name__] for c in cases)
        print(f"{task} {f.__name__}: {len(cases)} agree, scores {dict(sorted(seen.items()))}")
        assert len(seen) >= 2 and min(seen.values()) >= 0.05 * len(cases), f"{task} {f.__name__}: too few of some score: {seen}"
    wrong = [c["completion"] for c in cases if rewards.is_correct(c["completion"], c["row"]) != c["correct"]]
    assert not wrong, f"{task} is_correct: {len(wrong)} differ, e.g. {wrong[:3]}"


def test_trls_soft_overlong_punishment_weighted_is_the_labs_penalty(lab_scores):
    from trl.rewards import get_soft_overlong_punishment

    for c in read_jsonl(lab_scores / "overlong.jsonl"):
        f = get_soft_overlong_punishment(max_completion_len=c["max_completion_length"], soft_punish_cache=c["buffer"])
        # the lab's completion length counts the end token, as TRL's completion_ids do
        [penalty] = f(completion_ids=[[0] * c["length"]])
        assert penalty * c["factor"] == c["penalty"], c


def readme_table() -> list[tuple[str, str]]:
    """(field, 'GRPOConfig' or 'TrainingArguments') of each row of README.md's GRPOConfig table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    part = readme[readme.index("<!-- grpo-config-table:start"):readme.index("<!-- grpo-config-table:end")]
    first_table = part.split("| GRPOConfig field |")[1].split("\n\n")[0]
    rows = re.findall(r"^\| `(\w+)`( ¹)? \|", first_table, re.MULTILINE)
    return [(name, "TrainingArguments" if mark else "GRPOConfig") for name, mark in rows]


def test_readme_table_names_every_field_grpo_config_declares():
    from transformers import TrainingArguments
    from trl import GRPOConfig

    inherited = {f.name for f in dataclasses.fields(TrainingArguments)}
    own = [f.name for f in dataclasses.fields(GRPOConfig) if f.name not in inherited]
    table = readme_table()
    listed = [name for name, kind in table if kind == "GRPOConfig"]
    assert len(listed) == len(set(listed))
    missing = [f for f in own if f not in listed]
    assert not missing, f"README.md's GRPOConfig table lacks {missing}: add them to TRL_FIELDS in src/export/trl.ts and run scripts/trl-readme.ts"
    assert not [f for f in listed if f not in own], "the table lists fields GRPOConfig does not declare"
    assert listed == own, "the table keeps GRPOConfig's order"
    assert all(name in inherited for name, kind in table if kind == "TrainingArguments")


def config_of(project: Path, name: str, *argv: str):
    module = train_module(project, name)
    return module, module.grpo_config(module.parse_args(list(argv)))


def test_grpo_config_derives_the_labs_rollout_and_steps(projects):
    lab = TINY_COUNTDOWN
    _, args = config_of(projects["countdown"], "train_countdown_config")
    rollout = lab["prompts_per_step"] * lab["num_generations"]
    microbatches = lab["steps_per_generation"] * lab["gradient_accumulation_steps"]
    assert args.per_device_train_batch_size == rollout // microbatches == 4
    assert args.steps_per_generation == microbatches == 4
    assert args.generation_batch_size == rollout  # TRL derives it: one rollout per generation
    assert args.gradient_accumulation_steps == 2
    assert args.max_steps == lab["max_steps"] * lab["num_iterations"] * lab["steps_per_generation"] == 12
    assert args.eval_steps == 4 and args.eval_strategy == "steps"
    assert (args.beta, args.num_iterations, args.epsilon, args.epsilon_high, args.delta) == (0.04, 2, 0.2, 0.28, None)
    assert args.reward_weights == [1.0, 0.0, 0.5]
    assert (args.loss_type, args.scale_rewards, args.importance_sampling_level) == ("grpo", "group", "token")
    assert (args.use_bias_correction_kl, args.shuffle_dataset, args.bf16, args.adam_epsilon) == (lab["use_bias_correction_kl"], False, False, 1e-8)
    assert (args.temperature, args.top_k, args.top_p, args.max_completion_length) == (1.0, 0, 1.0, 64)
    _, default = config_of(projects["addition"], "train_addition_config", "--max_steps", "7", "--output_dir", "/tmp/x")
    assert (default.max_steps, default.output_dir, default.per_device_train_batch_size, default.generation_batch_size) == (7, "/tmp/x", 64, 64)
    assert (default.learning_rate, default.lr_scheduler_type, default.adam_beta2, default.max_grad_norm, default.seed) == (2e-4, "linear", 0.99, 1.0, 1)


def test_positions_from_mask_reads_a_left_padded_prompt_as_the_unpadded_one(projects):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    module = train_module(projects["countdown"], "train_countdown_positions")
    folder = projects["countdown"] / "model"
    tok = AutoTokenizer.from_pretrained(folder)
    short, long = tok("[3,7]=21?<think>")["input_ids"], tok("[3,7,25,50]=79?<think>")["input_ids"]
    pad = len(long) - len(short)
    ids = torch.tensor([[0] * pad + short, long])
    mask = torch.tensor([[0] * pad + [1] * len(short), [1] * len(long)])

    def padded_vs_alone(model) -> float:
        with torch.no_grad():
            alone = model(input_ids=torch.tensor([short])).logits[0]
            padded = model(input_ids=ids, attention_mask=mask).logits[0, pad:]  # how TRL calls it for the loss
        return float((alone - padded).abs().max())

    plain = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    assert padded_vs_alone(plain) > 1e-2  # GPT-2's learned positions: a shifted prompt reads differently
    assert padded_vs_alone(module.positions_from_mask(plain)) < 1e-5


def test_train_py_runs_two_steps_on_the_cpu_and_logs_trls_metrics(projects, tmp_path):
    module = train_module(projects["countdown"], "train_countdown_run")
    out = tmp_path / "run"
    module.main(["--max_steps", "2", "--output_dir", str(out), "--eval_problems", "8"])
    logs = read_jsonl(out / "log_history.jsonl")
    steps = [e for e in logs if "loss" in e]
    assert [e["step"] for e in steps] == [1, 2]
    # every optimizer step logs the loss's metrics; the rollout's are logged when it is generated (step 1)
    for key in ["loss", "grad_norm", "learning_rate", "kl", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"]:
        for e in steps:
            assert key in e and math.isfinite(e[key]), f"{key} missing or not finite in {e}"
    for key in ["reward", "reward_std", "completions/mean_length", "completions/clipped_ratio", "frac_reward_zero_std",
                "rewards/countdown/mean", "rewards/format/mean", "rewards/soft_overlong_punishment_reward/mean"]:
        assert key in steps[0] and math.isfinite(steps[0][key]), f"{key} missing or not finite in {steps[0]}"
    assert steps[1]["learning_rate"] < steps[0]["learning_rate"]  # linear decay over TRL's 2 steps
    assert steps[0]["completions/max_length"] <= TINY_COUNTDOWN["max_completion_length"]
    # the lab's evaluation every eval_every = 1 GRPO step = 4 optimizer steps, and after the last
    evals = [e for e in logs if "eval/pass@1" in e]
    assert [e["step"] for e in evals] == [2]
    assert 0 <= evals[0]["eval/pass@1"] <= 1 and 0 < evals[0]["eval/mean_length"] <= TINY_COUNTDOWN["max_completion_length"]
    # the trained model is a folder the lab loads back and evaluates as Python did
    lab = grpo_lab_json("eval", "--task", "countdown", "--model", str(out), "--n", "8", "--k", "0", "--seed", "3", "--backend", "cpu",
                        "--max-new-tokens", str(TINY_COUNTDOWN["max_completion_length"]))
    assert lab["eval/pass@1"] == evals[0]["eval/pass@1"]
    assert lab["eval/mean_length"] == pytest.approx(evals[0]["eval/mean_length"])
