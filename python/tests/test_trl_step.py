# A whole GRPO update on a real model, against TRL's own trainer: the shipped addition model,
# exported as a Hugging Face folder and loaded in transformers, and one rollout (token ids,
# truncated flags, rewards) go to `grpo-lab update` and to a real trl.GRPOTrainer built from the
# GRPOConfig that the lab's config maps to. Each optimizer step's loss and gradient norm (before
# clipping) must agree, over μ = 2 passes of 2 minibatches each, with β > 0: the second minibatch
# and the second pass see the weights the earlier AdamW steps left, so the optimizer (AdamW with
# decay on matrices only, bias correction, clipping, the learning-rate schedule) is compared too.
#
# TRL's side runs unchanged but for the sampling: the rollout comes in through TRL's own
# `rollout_func` hook, so `_generate_and_score_completions` computes the advantages, the
# truncation mask, num_items_in_batch, and the old and reference log-probs (the real model's
# forward, at the config's temperature) before any update. The generation batch is then cut into
# microbatches in order with TRL's split_tensor_dict (TRL's _prepare_inputs shuffles it first; the
# lab cuts it in order), and each optimizer step runs trainer._compute_loss and backward on its
# microbatches, then clips (torch's clip_grad_norm_, as Trainer does through accelerate) and steps
# the optimizer and scheduler that Trainer.create_optimizer_and_scheduler makes from the config.
#
# Prompts: TRL left-pads prompts to the longest, and a GPT-2 fed a padded prompt would see its
# positions shifted against the lab's (which starts every sequence at position 0). The addition
# task's prompts all have 16 characters ("047+085=?<think>"), so no prompt is padded.
#
# Both sides compute in float32. Tolerance: |lab - TRL| <= 1e-4 * max(|TRL|, 1e-2) (an absolute
# floor of 1e-6 for values under 0.01: the first pass's GRPO loss is a sum of advantages that
# cancel, about 1e-8 on either side).
import copy
import json
import os
import subprocess

import numpy as np
import pytest
import torch

from conftest import ROOT, SHIPPED

SEED = 7
RELATIVE = 1e-4
FLOOR = 1e-2
LOSS_TYPES = ["grpo", "bnpo", "dr_grpo", "dapo", "luspo", "cispo", "sapo", "vespo"]
BACKENDS = ["cpu", "webgpu"]
EOS = 0
PROMPTS = ["047+085=?<think>", "613+298=?<think>", "500+499=?<think>"]
G = 4
MAX_COMPLETION_LENGTH = 32

# the lab's run config shared by every case (its keys are TRL's GRPOConfig names where TRL has them)
BASE = {
    "task": "addition", "seed": SEED, "base_model": "",
    "prompts_per_step": len(PROMPTS), "num_generations": G, "temperature": 1.2, "top_k": 0,
    "max_completion_length": MAX_COMPLETION_LENGTH,
    "beta": 0.05, "epsilon": 0.2, "epsilon_high": 0.28, "scale_rewards": "group",
    "num_iterations": 2, "steps_per_generation": 2, "gradient_accumulation_steps": 1,
    "learning_rate": 2e-4, "lr_scheduler_type": "linear", "max_steps": 5,
    "weight_decay": 0.1, "adam_beta1": 0.9, "adam_beta2": 0.99, "max_grad_norm": 0.5,
}
# each loss type once, with a few of the other knobs on along the way
CASES = {
    "grpo": {},
    "bnpo": {"mask_truncated_completions": True},
    "dr_grpo": {"scale_rewards": "batch"},
    "dapo": {"delta": 1.5, "top_entropy_quantile": 0.6, "gradient_accumulation_steps": 2},
    "luspo": {"importance_sampling_level": "sequence"},
    "cispo": {"epsilon_high": 1.05, "entropy_coef": 0.02},
    "sapo": {"scale_rewards": "none", "use_bias_correction_kl": False},
    "vespo": {},
}


def lab_config(loss_type: str) -> dict:
    return {**BASE, "loss_type": loss_type, **CASES[loss_type]}


def trl_args(cfg: dict, out_dir):
    """The GRPOConfig of a lab config. TRL's steps_per_generation counts microbatches: the lab's
    minibatches × gradient_accumulation_steps; per_device_train_batch_size is a microbatch."""
    from trl import GRPOConfig

    N = cfg["prompts_per_step"] * cfg["num_generations"]
    microbatches = cfg["steps_per_generation"] * cfg["gradient_accumulation_steps"]
    return GRPOConfig(
        output_dir=str(out_dir), use_cpu=True, bf16=False, report_to="none", save_strategy="no", seed=cfg["seed"],
        per_device_train_batch_size=N // microbatches, steps_per_generation=microbatches,
        gradient_accumulation_steps=cfg["gradient_accumulation_steps"], num_iterations=cfg["num_iterations"],
        num_generations=cfg["num_generations"], temperature=cfg["temperature"], max_completion_length=cfg["max_completion_length"],
        loss_type=cfg["loss_type"], beta=cfg["beta"], epsilon=cfg["epsilon"], epsilon_high=cfg["epsilon_high"],
        scale_rewards=cfg["scale_rewards"], importance_sampling_level=cfg.get("importance_sampling_level", "token"),
        mask_truncated_completions=cfg.get("mask_truncated_completions", False), delta=cfg.get("delta") or None,
        top_entropy_quantile=cfg.get("top_entropy_quantile", 1.0), entropy_coef=cfg.get("entropy_coef", 0.0),
        optim="adamw_torch", learning_rate=cfg["learning_rate"], lr_scheduler_type=cfg["lr_scheduler_type"], warmup_steps=0,
        weight_decay=cfg["weight_decay"], adam_beta1=cfg["adam_beta1"], adam_beta2=cfg["adam_beta2"], adam_epsilon=1e-8,
        max_grad_norm=cfg["max_grad_norm"],
        # the KL term times the importance ratio (TRL 1.13's default, True, and the lab's)
        use_bias_correction_kl=cfg.get("use_bias_correction_kl", True),
    )


# --- the rollout ----------------------------------------------------------------------------------

def sample_rollout(folder) -> dict:
    """G completions of each prompt, sampled by transformers from the model at the config's
    temperature (any token ids would do: both sides are given the same ones), cut at the end token;
    rewards drawn at random, the last group's all equal (zero std)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    torch.manual_seed(SEED)
    prompt_ids, completion_ids = [], []
    for prompt in PROMPTS:
        ids = torch.tensor([tokenizer.encode(prompt)] * G)
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=BASE["temperature"],
                                 top_k=0, top_p=1.0, max_new_tokens=MAX_COMPLETION_LENGTH, pad_token_id=EOS)
        for row in out[:, ids.shape[1]:].tolist():
            prompt_ids.append(ids[0].tolist())
            completion_ids.append(row[: row.index(EOS) + 1] if EOS in row else row)
    rng = np.random.default_rng(SEED)
    rewards = [float(np.float32(r)) for r in rng.uniform(0, 1, (len(PROMPTS) - 1) * G)] + [1.0] * G
    return {"prompt_ids": prompt_ids, "completion_ids": completion_ids,
            "truncated": [ids[-1] != EOS for ids in completion_ids], "rewards": rewards}


# --- the lab's side -------------------------------------------------------------------------------

def start_lab(work, model: str) -> subprocess.Popen:
    """Every case's `grpo-lab update` on each backend, in one Node process (python/tests/cli_batch.ts
    runs the CLI's main() for each)."""
    entries = [["update", "--config", str(work / f"{t}.json"), "--model", model, "--rollout", str(work / "rollout.json"),
                "--backend", b] for b in BACKENDS for t in LOSS_TYPES]
    path = work / "entries.json"
    path.write_text(json.dumps(entries))
    return subprocess.Popen(["node", "scripts/node-gpu.mjs", "python/tests/cli_batch.ts", str(path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})


def finish_lab(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"cli_batch.ts exited {proc.returncode}:\n{err[-3000:]}")
    results = iter(json.loads(out.strip().splitlines()[-1]))
    return {(b, t): next(results) for b in BACKENDS for t in LOSS_TYPES}


# --- TRL's side -----------------------------------------------------------------------------------

LAB_DECAYED = {"transformer.wte.weight", "transformer.wpe.weight", "lm_head.weight"}  # with each block's four matrices


def trl_update(cfg: dict, rollout: dict, folder, out_dir) -> dict:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer
    from trl.trainer.utils import split_tensor_dict

    N = len(rollout["rewards"])
    prompts = [p for p in PROMPTS for _ in range(G)]  # group-major, as TRL's sampler repeats each prompt

    def rollout_func(given, trainer):
        assert given == prompts
        return {"prompt_ids": rollout["prompt_ids"], "completion_ids": rollout["completion_ids"], "logprobs": None}

    def given_rewards(completions, **_):
        return list(rollout["rewards"])

    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32), args=trl_args(cfg, out_dir),
        reward_funcs=[given_rewards], train_dataset=Dataset.from_dict({"prompt": prompts}),
        processing_class=AutoTokenizer.from_pretrained(folder), rollout_func=rollout_func,
    )
    model = trainer.model
    model.train()
    ga, spg, mu = cfg["gradient_accumulation_steps"], cfg["steps_per_generation"], cfg["num_iterations"]
    trainer.current_gradient_accumulation_steps = ga  # Trainer's loop sets it per optimizer step
    # the lab's schedule spans the run's optimizer updates: max_steps rollouts × μ × minibatches
    trainer.create_optimizer_and_scheduler(num_training_steps=cfg["max_steps"] * mu * spg)
    decayed = {n for n, p in model.named_parameters() if any(p is q for g in trainer.optimizer.param_groups if g["weight_decay"] > 0 for q in g["params"])}
    assert decayed == LAB_DECAYED | {n for n, _ in model.named_parameters() if n.startswith("transformer.h.") and n.endswith(".weight") and ".ln_" not in n}

    inputs = trainer._generate_and_score_completions([{"prompt": p} for p in prompts])
    assert ("old_per_token_logps" in inputs) == (spg * mu > 1) and ("ref_per_token_logps" in inputs) == (cfg["beta"] > 0)
    microbatches = split_tensor_dict(inputs, spg * ga)
    steps = []
    for _ in range(mu):
        for s in range(spg):
            loss = 0.0
            for g in range(ga):
                # backward of what _compute_loss returns (Trainer.training_step, transformers 5.18, divides it by
                # gradient_accumulation_steps once more first: with GA > 1 its gradients are 1/GA of these)
                micro = trainer._compute_loss(model, microbatches[s * ga + g])
                micro.backward()
                loss += micro.item()
            learning_rate = trainer.lr_scheduler.get_last_lr()[0]
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["max_grad_norm"]).item()
            trainer.optimizer.step()
            trainer.lr_scheduler.step()
            trainer.optimizer.zero_grad()
            steps.append({"loss": loss, "grad_norm": grad_norm, "learning_rate": learning_rate})
    return {"advantages": inputs["advantages"].tolist(), "optimizer_steps": steps}


# --- both -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sides(folders, tmp_path_factory):
    work = tmp_path_factory.mktemp("trl-step")
    folder = folders["addition"]
    rollout = sample_rollout(folder)
    assert len(set(map(len, rollout["prompt_ids"]))) == 1, "prompts of one length: TRL would left-pad them"
    assert any(rollout["truncated"]) and not all(rollout["truncated"]), rollout["truncated"]
    (work / "rollout.json").write_text(json.dumps(rollout))
    for t in LOSS_TYPES:
        (work / f"{t}.json").write_text(json.dumps(lab_config(t)))
    proc = start_lab(work, str(SHIPPED["addition"]))
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental
    from transformers.utils import logging as transformers_logging
    transformers_logging.disable_progress_bar()
    trl = {t: trl_update(lab_config(t), copy.deepcopy(rollout), folder, work / "trainer") for t in LOSS_TYPES}
    return rollout, trl, finish_lab(proc)


def relative_difference(lab, trl) -> float:
    return abs(lab - trl) / max(abs(trl), FLOOR)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_an_update_gives_trls_losses_and_gradient_norms(sides, loss_type, backend):
    _, trl, lab = sides
    r = lab[(backend, loss_type)]
    assert r["status"] == 0, f"grpo-lab update --backend {backend} ({loss_type}) exited {r['status']}: {r['stderr'][-2000:]}"
    ours = json.loads(r["stdout"].strip().splitlines()[-1])
    theirs = trl[loss_type]
    assert len(ours["optimizer_steps"]) == len(theirs["optimizer_steps"]) == BASE["num_iterations"] * BASE["steps_per_generation"]
    rows, over, worst = [], [], 0.0
    for what, a, b in [(f"advantages[{i}]", x, y) for i, (x, y) in enumerate(zip(ours["advantages"], theirs["advantages"]))] + [
        (f"step {o} {k}", s[k], t[k]) for o, (s, t) in enumerate(zip(ours["optimizer_steps"], theirs["optimizer_steps"]))
        for k in ("loss", "grad_norm", "learning_rate")
    ]:
        d = relative_difference(a, b)
        worst = max(worst, d)
        if "step" in what:
            rows.append(f"  {what}: lab {a:.7g}  TRL {b:.7g}  ({d:.1e})")
        if not d <= RELATIVE:
            over.append(f"{what}: lab {a:.9g}, TRL {b:.9g} (relative difference {d:.2e})")
    print(f"{loss_type} on {backend}: largest relative difference {worst:.2e}\n" + "\n".join(rows))
    assert len(ours["advantages"]) == len(theirs["advantages"])
    assert not over, f"{loss_type} on {backend} differs from TRL:\n" + "\n".join(over)


def test_the_update_moves_the_model_enough_to_matter(sides):
    """The second pass and the clipping are reached: on TRL's side the losses change from pass to
    pass, and some step's gradient norm is over max_grad_norm."""
    _, trl, _ = sides
    for t, r in trl.items():
        losses = [s["loss"] for s in r["optimizer_steps"]]
        assert abs(losses[2] - losses[0]) > 1e-4 or abs(losses[3] - losses[1]) > 1e-4, f"{t}: {losses}"
    assert any(s["grad_norm"] > BASE["max_grad_norm"] for r in trl.values() for s in r["optimizer_steps"])
