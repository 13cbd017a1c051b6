# The GRPO loss on given numbers, against TRL's own code: the same per-token log-probs (policy, old,
# reference), entropies, masks and rewards go to `grpo-lab worksheet` on both backends and to a
# real trl.GRPOTrainer, and the advantages, the loss, TRL's metrics and the gradient of the loss
# with respect to each token's log-prob (and entropy) must agree.
#
# TRL's side runs unchanged but for the model: a GRPOTrainer built from a GRPOConfig holding the
# case's knobs, its generation replaced through TRL's own `rollout_func` hook (the case's token ids,
# each ending in EOS unless truncated), reward functions that hand back the case's rewards, and
# `_get_per_token_logps_and_entropies` (the model's forward) returning the case's numbers. So
# `_generate_and_score_completions` makes the advantages, the truncation mask, num_items_in_batch
# and the reward metrics, and `_compute_loss` the loss and the rest, each by TRL's code. The case's
# old log-probs go in as `old_per_token_logps`, where TRL keeps the ones it computes when the
# policy has moved since the rollout (num_iterations > 1); a case without them is on-policy, and
# TRL then uses the policy's own, detached.
#
# TRL runs in float64 on numbers that float32 holds exactly, so the differences measured are the
# lab's float32 rounding and nothing of TRL's. Tolerance: |lab - TRL| <= 1e-5 * max(|TRL|, 1e-2),
# that is 1e-5 relative, and an absolute floor of 1e-7 for values under 0.01 in size (advantages of
# equal rewards, masked tokens' gradients). A loss is a sum whose terms cancel (advantages sum to 0
# in a group): a float32 sum is exact to a fraction of the size of its terms, not of the result, so
# the loss and policy_loss are held to 1e-5 of max(|TRL|, the sum of |TRL's per-token gradient|),
# the size of what was summed (for the clip family at ratio 1, |w_i A_i| per token); likewise each
# advantage r_i − mean(r) to 1e-5 of the largest |A_j| of its batch.
import json
import os
import subprocess
from collections import defaultdict

import numpy as np
import pytest
import torch

from conftest import ROOT

SEED = 20261202
RELATIVE = 1e-5
FLOOR = 1e-2  # below this size, the tolerance is RELATIVE * FLOOR = 1e-7 absolute
LOSS_TYPES = ["grpo", "bnpo", "dr_grpo", "dapo", "luspo", "cispo", "sapo", "vespo"]
CLIP_FAMILY = ["grpo", "bnpo", "dr_grpo", "dapo", "luspo"]
SCALE_REWARDS = ["group", "batch", "none"]
LEVELS = ["token", "sequence"]
BACKENDS = ["cpu", "webgpu"]
EOS = 0
VOCAB = 16
PROMPT = [3, 4, 5]  # every rollout's prompt ids (the forward never reads them)
# the metrics of the worksheet's contract, by TRL's names; TRL logs others (num_tokens,
# completions/…, rewards/<function>/…) that the worksheet does not compute
CONTRACT_METRICS = {
    "reward", "reward_std", "frac_reward_zero_std", "kl", "entropy",
    "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "clip_ratio/low_min", "clip_ratio/high_max",
    "cispo_clip_ratio", "vespo/phi_seq_mean", "policy_loss", "entropy_coef",
}

# which of the optional parts each of a loss type's six scale_rewards × importance_sampling_level
# cases turns on, so that every loss type meets each one several times; a seventh case has all
FEATURES = ["beta", "delta", "top_entropy", "entropy_coef", "mask_truncated", "per_function", "normalize_then_sum", "off_policy"]
PLAN = [
    {"beta", "top_entropy", "normalize_then_sum", "off_policy"},
    {"delta", "entropy_coef", "off_policy"},
    {"beta", "mask_truncated", "per_function", "off_policy"},
    {"delta", "top_entropy", "per_function", "off_policy"},
    {"beta", "entropy_coef", "mask_truncated", "normalize_then_sum", "off_policy"},
    {"mask_truncated"},  # on-policy: no logp_old, TRL's own detached log-probs
]
ALL_ON = set(FEATURES)


# --- the cases --------------------------------------------------------------------------------

def f32(x) -> float:
    """A number float32 holds exactly, so both sides start from the same value."""
    return float(np.float32(x))


def f32s(xs) -> list[float]:
    return [f32(x) for x in xs]


def make_rewards(rng, num_groups: int, G: int, per_function: bool):
    """Each group's rewards; a group of equal rewards now and then (zero std, TRL's frac_reward_zero_std).
    Equal rewards are 0, 0.5 or 1, whose mean float32 computes exactly."""
    groups = []
    for _ in range(num_groups):
        if per_function:
            K = 3 if rng.random() < 0.5 else 2
            rows = [[f32(rng.uniform(-1, 2)) for _ in range(K)] for _ in range(G)]
            if rng.random() < 0.3:  # one function gives the whole group the same reward
                same = float(rng.choice([0.0, 0.5, 1.0]))
                for r in rows:
                    r[0] = same
            groups.append(rows)
        elif rng.random() < 0.25:
            groups.append([float(rng.choice([0.0, 0.5, 1.0]))] * G)
        else:
            groups.append(f32s(rng.uniform(-1, 2, G)))
    if per_function:  # one K for the whole batch
        K = len(groups[0][0])
        groups = [[r[:K] + [f32(rng.uniform(-1, 2)) for _ in range(K - len(r))] for r in g] for g in groups]
    return groups


def make_completion(rng, L: int, features: set, first: bool) -> dict:
    logp = -rng.uniform(0.01, 4.0, L)
    c = {"logp": f32s(logp), "entropy": f32s(rng.uniform(0.0, 3.0, L))}
    if "off_policy" in features:  # ratios up to about e^±0.6: the clip ranges are met
        c["logp_old"] = f32s(np.minimum(logp + rng.normal(0, 0.25, L), -1e-3))
    if "beta" in features or rng.random() < 0.3:  # a reference the loss ignores when beta = 0
        c["logp_ref"] = f32s(np.minimum(logp + rng.normal(0, 0.3, L), -1e-3))
    # the first completion of a group always ends in EOS, so that masking truncated ones never
    # empties the batch
    c["truncated"] = bool(not first and rng.random() < 0.35)
    return c


def make_case(rng, loss_type: str, scale: str, level: str, features: set) -> dict:
    num_groups = int(rng.integers(2, 4))
    G = int(rng.integers(2, 5))
    per_function = "per_function" in features or "normalize_then_sum" in features
    rewards = make_rewards(rng, num_groups, G, per_function)
    lengths = [[int(rng.integers(1, 9)) for _ in range(G)] for _ in range(num_groups)]
    config = {
        "loss_type": loss_type,
        "scale_rewards": scale,
        "importance_sampling_level": level,
        "epsilon": f32(rng.uniform(0.1, 0.3)),
        # cispo's epsilon_high caps the ratio itself (TRL's docs suggest values like 5); near 1 here so it bites
        "epsilon_high": f32(rng.uniform(1.0, 1.4) if loss_type == "cispo" else rng.uniform(0.2, 0.4)),
        "beta": f32(rng.uniform(0.01, 0.2)) if "beta" in features else 0.0,
        "max_completion_length": max(max(r) for r in lengths) + int(rng.integers(0, 4)),
        "mask_truncated_completions": "mask_truncated" in features,
        "top_entropy_quantile": f32(rng.uniform(0.3, 0.8)) if "top_entropy" in features else 1.0,
        "entropy_coef": f32(rng.uniform(0.01, 0.1)) if "entropy_coef" in features else 0.0,
        "sapo_temperature_pos": f32(rng.uniform(0.8, 1.2)),
        "sapo_temperature_neg": f32(rng.uniform(0.9, 1.3)),
        "vespo_k_pos": f32(rng.uniform(1.5, 2.5)),
        "vespo_lambda_pos": f32(rng.uniform(2.5, 3.5)),
        "vespo_k_neg": f32(rng.uniform(2.5, 3.5)),
        "vespo_lambda_neg": f32(rng.uniform(1.5, 2.5)),
        "multi_objective_aggregation": "normalize_then_sum" if "normalize_then_sum" in features else "sum_then_normalize",
    }
    # TRL 1.13's default multiplies the KL by the ratio; a third of the cases with β > 0 turn it off
    if "beta" in features and rng.random() < 0.33:
        config["use_bias_correction_kl"] = False
    if "delta" in features:
        config["delta"] = f32(rng.uniform(1.05, 1.5))
    else:  # off: absent, null or 0, as the contract allows
        off = int(rng.integers(0, 3))
        if off:
            config["delta"] = None if off == 1 else 0
    if per_function:
        config["reward_weights"] = f32s(rng.uniform(0.5, 2.0, len(rewards[0][0])))
    groups = []
    for g in range(num_groups):
        completions = [make_completion(rng, lengths[g][i], features, i == 0) for i in range(G)]
        key = "rewards_per_func" if per_function else "rewards"
        groups.append({key: rewards[g], "completions": completions})
    return {"config": config, "groups": groups}


def make_cases() -> list[dict]:
    rng = np.random.default_rng(SEED)
    cases = []
    for loss_type in LOSS_TYPES:
        combos = [(s, l) for s in SCALE_REWARDS for l in LEVELS]
        for (scale, level), features in zip(combos, PLAN):
            cases.append(make_case(rng, loss_type, scale, level, features))
        cases.append(make_case(rng, loss_type, str(rng.choice(SCALE_REWARDS)), str(rng.choice(LEVELS)), ALL_ON))
    return cases


# --- the lab's side -----------------------------------------------------------------------------

def start_lab(backend: str, cases_path, cli_inputs: list) -> subprocess.Popen:
    """One Node process per backend (python/tests/cli_batch.ts, started by scripts/node-gpu.mjs with
    the Vulkan environment WebGPU needs): every case's worksheet on one backend, then the first case
    of each loss type again through the `grpo-lab worksheet` command itself."""
    entries = [{"worksheets": str(cases_path), "backend": backend}]
    entries += [["worksheet", "--backend", backend, "--input", str(p)] for p in cli_inputs]
    path = cases_path.with_name(f"entries-{backend}.json")
    path.write_text(json.dumps(entries))
    return subprocess.Popen(["node", "scripts/node-gpu.mjs", "python/tests/cli_batch.ts", str(path)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1"})


def finish_lab(backend: str, proc: subprocess.Popen, n: int) -> tuple[list[dict], list[dict]]:
    """The worksheets of every case, and the commands' results."""
    out, err = proc.communicate(timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"cli_batch.ts on {backend} exited {proc.returncode}:\n{err[-3000:]}")
    results = json.loads(out.strip().splitlines()[-1])
    assert len(results[0]) == n, f"{backend}: {len(results[0])} worksheets for {n} cases"
    return results[0], results[1:]


# --- TRL's side ---------------------------------------------------------------------------------

def tiny_model_folder(path):
    """A GPT-2 of the lab's kind (untied head) and a tokenizer whose EOS is also its pad, saved so that
    TRL can load a reference model from it when beta > 0. Its weights are never used: the forward
    is the case's numbers."""
    from tokenizers import Tokenizer, models
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    vocab = {"<eos>": EOS, **{chr(ord("a") + i): i + 1 for i in range(VOCAB - 1)}}
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocab, unk_token="<eos>")),
                                        eos_token="<eos>", pad_token="<eos>")
    config = GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=8, n_layer=1, n_head=2, bos_token_id=EOS,
                        eos_token_id=EOS, pad_token_id=EOS, tie_word_embeddings=False)
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def completion_ids(c: dict, i: int) -> list[int]:
    """Token ids for a completion of len(logp) tokens: EOS last unless truncated (how TRL tells)."""
    L = len(c["logp"])
    ids = [1 + (i + t) % (VOCAB - 1) for t in range(L)]
    if not c.get("truncated"):
        ids[-1] = EOS
    return ids


def padded(rows: list[list[float]], T: int) -> torch.Tensor:
    return torch.tensor([r + [0.0] * (T - len(r)) for r in rows], dtype=torch.float64)


def grpo_config(cfg: dict, N: int, G: int, out_dir):
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=str(out_dir), use_cpu=True, report_to="none", save_strategy="no", seed=SEED,
        # one optimizer step of one microbatch holding the whole rollout, one pass over it
        per_device_train_batch_size=N, num_generations=G, steps_per_generation=1, gradient_accumulation_steps=1,
        num_iterations=1,
        loss_type=cfg["loss_type"], scale_rewards=cfg["scale_rewards"], importance_sampling_level=cfg["importance_sampling_level"],
        epsilon=cfg["epsilon"], epsilon_high=cfg["epsilon_high"], beta=cfg["beta"],
        delta=cfg.get("delta") or None,  # the worksheet's 0 is TRL's None: off
        max_completion_length=cfg["max_completion_length"], mask_truncated_completions=cfg["mask_truncated_completions"],
        top_entropy_quantile=cfg["top_entropy_quantile"], entropy_coef=cfg["entropy_coef"],
        sapo_temperature_pos=cfg["sapo_temperature_pos"], sapo_temperature_neg=cfg["sapo_temperature_neg"],
        vespo_k_pos=cfg["vespo_k_pos"], vespo_lambda_pos=cfg["vespo_lambda_pos"],
        vespo_k_neg=cfg["vespo_k_neg"], vespo_lambda_neg=cfg["vespo_lambda_neg"],
        multi_objective_aggregation=cfg["multi_objective_aggregation"], reward_weights=cfg.get("reward_weights"),
        # the KL term times the importance ratio (TRL 1.13's default, True); the worksheet has no such key yet
        use_bias_correction_kl=cfg.get("use_bias_correction_kl", True),
    )


def given_reward(table: list[list[float]], k: int):
    """Reward function k: hands back column k of the case's rewards, in the batch's order."""
    def reward(completions, **_):
        assert len(completions) == len(table)
        return [row[k] for row in table]
    reward.__name__ = f"given_{k}"
    return reward


def trl_case(case: dict, model_folder, out_dir) -> dict:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    cfg, groups = case["config"], case["groups"]
    comps = [c for g in groups for c in g["completions"]]
    N, G = len(comps), len(groups[0]["completions"])
    T = max(len(c["logp"]) for c in comps)
    table = [row for g in groups for row in g.get("rewards_per_func", [[r] for r in g.get("rewards", [])])]
    ids = [completion_ids(c, i) for i, c in enumerate(comps)]

    def rollout(prompts, trainer):
        assert len(prompts) == N
        return {"prompt_ids": [PROMPT] * N, "completion_ids": ids, "logprobs": None}

    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(model_folder), args=grpo_config(cfg, N, G, out_dir),
        reward_funcs=[given_reward(table, k) for k in range(len(table[0]))],
        train_dataset=Dataset.from_dict({"prompt": ["?"] * N}),
        processing_class=AutoTokenizer.from_pretrained(model_folder), rollout_func=rollout,
    )
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1  # Trainer's loop sets it per optimizer step: one microbatch here

    logp = padded([c["logp"] for c in comps], T)
    ref = padded([c.get("logp_ref", c["logp"]) for c in comps], T)
    entropy = padded([c["entropy"] for c in comps], T)
    forwards = []

    def forward_in_generation(model, input_ids, attention_mask, logits_to_keep, *args, **kwargs):
        # TRL asks only for the reference's log-probs here: the rollout is on-policy for this step
        forwards.append("reference" if model is trainer.ref_model else "policy")
        assert input_ids.shape == (N, len(PROMPT) + T) and logits_to_keep == T
        return ref.clone(), None, None

    logp_leaf = logp.clone().requires_grad_(True)
    entropy_leaf = entropy.clone().requires_grad_(cfg["entropy_coef"] > 0)

    def forward_in_loss(model, input_ids, attention_mask, logits_to_keep, *args, compute_entropy=False, **kwargs):
        assert compute_entropy and input_ids.shape == (N, len(PROMPT) + T) and logits_to_keep == T
        return logp_leaf, entropy_leaf, None

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        trainer._get_per_token_logps_and_entropies = forward_in_generation
        inputs = trainer._generate_and_score_completions([{"prompt": "?"} for _ in range(N)])
        assert forwards == (["reference"] if cfg["beta"] != 0 else []), forwards
        if any("logp_old" in c for c in comps):
            inputs["old_per_token_logps"] = padded([c.get("logp_old", c["logp"]) for c in comps], T)
        trainer._get_per_token_logps_and_entropies = forward_in_loss
        loss = trainer._compute_loss(trainer.model, inputs)
        loss.backward()
    finally:
        torch.set_default_dtype(previous)
    grad_entropy = entropy_leaf.grad if cfg["entropy_coef"] > 0 else None
    return {
        "advantages": inputs["advantages"].tolist(),
        "loss": loss.item(),
        "grad": [logp_leaf.grad[i, : len(c["logp"])].tolist() for i, c in enumerate(comps)],
        "grad_entropy": None if grad_entropy is None else [grad_entropy[i, : len(c["logp"])].tolist() for i, c in enumerate(comps)],
        "metrics": {k: v[-1] for k, v in trainer._metrics["train"].items() if k in CONTRACT_METRICS},
    }


# --- both, and the comparison ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    """cases, TRL's answer for each, each backend's worksheets, and the command's own output for
    the first case of each loss type (index → output)."""
    work = tmp_path_factory.mktemp("trl-loss")
    cases = make_cases()
    path = work / "cases.json"
    path.write_text(json.dumps(cases))
    firsts = [next(i for i, c in enumerate(cases) if c["config"]["loss_type"] == t) for t in LOSS_TYPES]
    for i in firsts:
        (work / f"case-{i}.json").write_text(json.dumps(cases[i]))
    # the lab's two Node processes start first and run while TRL is imported and computes
    procs = {b: start_lab(b, path, [work / f"case-{i}.json" for i in firsts]) for b in BACKENDS}
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is marked experimental
    from transformers.utils import logging as transformers_logging
    transformers_logging.disable_progress_bar()  # a bar per model loaded, twice a case
    folder = tiny_model_folder(work / "tiny")
    trl = [trl_case(case, folder, work / "trainer") for case in cases]
    lab, cli = {}, {}
    for b, p in procs.items():
        lab[b], commands = finish_lab(b, p, len(cases))
        cli[b] = dict(zip(firsts, commands))
    return cases, trl, lab, cli


class Comparison:
    """Every quantity of one case, lab against TRL: the worst relative difference and each one over."""

    def __init__(self):
        self.worst = 0.0
        self.over: list[str] = []

    def number(self, what: str, lab, trl, scale: float = 0.0):
        if lab is None or not np.isfinite(lab) or not np.isfinite(trl):
            if not (lab is not None and np.isnan(lab) and np.isnan(trl)):
                self.over.append(f"{what}: lab {lab}, TRL {trl}")
            return
        d = abs(lab - trl) / max(abs(trl), scale, FLOOR)
        self.worst = max(self.worst, d)
        if d > RELATIVE:
            self.over.append(f"{what}: lab {lab:.9g}, TRL {trl:.9g} (relative difference {d:.2e})")

    def numbers(self, what: str, lab, trl, scale: float = 0.0):
        if lab is None or len(lab) != len(trl):
            self.over.append(f"{what}: lab has {None if lab is None else len(lab)} values, TRL {len(trl)}")
            return
        for j, (a, b) in enumerate(zip(lab, trl)):
            self.number(f"{what}[{j}]", a, b, scale)


def compare(case: dict, lab: dict, trl: dict) -> Comparison:
    cmp = Comparison()
    if "error" in lab:
        cmp.over.append(f"the worksheet refused the case: {lab['error']}")
        return cmp
    # an advantage r_i − mean is as exact as the rewards: relative to the advantages' size, not its own
    cmp.numbers("advantages", lab["advantages"], trl["advantages"], float(max(abs(a) for a in trl["advantages"])))
    # the size of the loss's summed terms (see the tolerance above)
    summed = float(sum(abs(g) for grad in trl["grad"] for g in grad))
    cmp.number("loss", lab["loss"], trl["loss"], summed)
    completions = lab["completions"]
    if len(completions) != len(trl["grad"]):
        cmp.over.append(f"completions: lab has {len(completions)}, TRL {len(trl['grad'])}")
        return cmp
    for i, (c, grad) in enumerate(zip(completions, trl["grad"])):
        cmp.numbers(f"completions[{i}].grad", c.get("grad"), grad)
        if trl["grad_entropy"] is not None:
            cmp.numbers(f"completions[{i}].grad_entropy", c.get("grad_entropy"), trl["grad_entropy"][i])
    for name, value in trl["metrics"].items():
        if name not in lab["metrics"]:
            cmp.over.append(f"metrics: no {name!r} (TRL logs it: {value:.6g})")
        else:
            cmp.number(f"metrics[{name!r}]", lab["metrics"][name], value, summed if name == "policy_loss" else 0.0)
    return cmp


def describe(case: dict) -> str:
    cfg = case["config"]
    on = [k for k in ("beta", "delta", "entropy_coef") if cfg.get(k)]
    on += ["top_entropy_quantile"] if cfg["top_entropy_quantile"] < 1 else []
    on += ["mask_truncated_completions"] if cfg["mask_truncated_completions"] else []
    on += ["reward_weights"] if "reward_weights" in cfg else []
    on += ["logp_old"] if "logp_old" in case["groups"][0]["completions"][0] else []
    return f"{cfg['scale_rewards']}/{cfg['importance_sampling_level']}/{cfg['multi_objective_aggregation']} with {', '.join(on) or 'nothing else'}"




@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_the_worksheet_gives_trls_loss_advantages_metrics_and_gradients(sides, loss_type, backend):
    cases, trl, lab, _ = sides
    failures = []
    worst = 0.0
    mine = [i for i, c in enumerate(cases) if c["config"]["loss_type"] == loss_type]
    for i in mine:
        cmp = compare(cases[i], lab[backend][i], trl[i])
        worst = max(worst, cmp.worst)
        if cmp.over:
            failures.append(f"case {i} ({describe(cases[i])}):\n    " + "\n    ".join(cmp.over[:12]))
    print(f"{loss_type} on {backend}: {len(mine)} cases, largest relative difference {worst:.2e}")
    assert not failures, f"{len(failures)} of {len(mine)} {loss_type} cases differ from TRL on {backend}:\n" + "\n".join(failures)


def test_the_cases_meet_every_part_of_trls_loss(sides):
    """The random cases do reach what they are meant to: clipping on both sides, masked truncated
    completions, groups of equal rewards, tokens left out by the entropy quantile."""
    cases, trl, _, _ = sides
    metrics = defaultdict(float)
    for case, t in zip(cases, trl):
        for k, v in t["metrics"].items():
            metrics[k] = max(metrics[k], v)
    assert metrics["clip_ratio/low_mean"] > 0 and metrics["clip_ratio/high_mean"] > 0
    assert metrics["cispo_clip_ratio"] > 0
    assert metrics["frac_reward_zero_std"] > 0
    masked = [c for case in cases if case["config"]["mask_truncated_completions"]
              for g in case["groups"] for c in g["completions"] if c["truncated"]]
    assert len(masked) > 5
    # a token the entropy quantile leaves out has a zero gradient although its completion counts
    # (no KL term, no entropy bonus and no masked completions in those cases to give or take one)
    quiet = [i for i, case in enumerate(cases) if case["config"]["top_entropy_quantile"] < 1 and case["config"]["beta"] == 0
             and case["config"]["entropy_coef"] == 0 and not case["config"]["mask_truncated_completions"]]
    left_out = sum(1 for i in quiet for g in trl[i]["grad"] for x in g if x == 0)
    assert left_out > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_worksheet_command_gives_what_the_batch_gives(sides, backend):
    """The cases run many to a Node process (cli_batch.ts); `grpo-lab worksheet` itself gives the same
    output for the first case of each loss type, to the bit."""
    _, _, lab, cli = sides
    for i, r in cli[backend].items():
        assert r["status"] == 0, f"grpo-lab worksheet --backend {backend} on case {i} exited {r['status']}: {r['stderr'][-2000:]}"
        assert json.loads(r["stdout"]) == lab[backend][i], f"case {i}: the command and the batch differ"
