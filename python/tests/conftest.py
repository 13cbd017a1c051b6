# Shared by the Python tier: the grpo-lab command, and the Hugging Face folders it exports for
# the shipped models (made once per session, in a temporary folder). The engine's answers always
# come from the shipped .safetensors, never from the folder: read back by the lab, a folder with a
# wrong weight would give the engine the same wrong model and agree with transformers.
import json
import os
import subprocess
from pathlib import Path

import pytest

# every folder here is local: Hugging Face's libraries never go to the network for it
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"addition": ROOT / "public/models/addition.safetensors", "countdown": ROOT / "public/models/countdown.safetensors"}

# the machine is shared: a fixed thread count also keeps torch's sums in one order
torch.set_num_threads(1)


def grpo_lab(*args: str) -> str:
    """Run `npx grpo-lab ARGS` in the repository; its stdout, or a failure quoting its stderr."""
    r = subprocess.run(["npx", "grpo-lab", *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if r.returncode != 0:
        pytest.fail(f"npx grpo-lab {' '.join(args)} exited {r.returncode}:\n{r.stderr[-3000:]}")
    return r.stdout


def grpo_lab_json(*args: str) -> dict:
    return json.loads(grpo_lab(*args).strip().splitlines()[-1])


@pytest.fixture(scope="session")
def folders(tmp_path_factory) -> dict[str, Path]:
    """task id → the folder `grpo-lab export --format hf` wrote for its shipped model."""
    out = {}
    for task, model in SHIPPED.items():
        folder = tmp_path_factory.mktemp(f"{task}-hf")
        grpo_lab("export", "--format", "hf", "--model", str(model), "--out", str(folder))
        out[task] = folder
    return out


@pytest.fixture(scope="session")
def held_out(tmp_path_factory) -> dict[str, list[dict]]:
    """task id → rows of `grpo-lab eval --completions-out` for the shipped model: the task's real
    held-out prompts with the lab's greedy completions."""
    out = {}
    for task, model in SHIPPED.items():
        path = tmp_path_factory.mktemp(f"{task}-eval") / "completions.jsonl"
        grpo_lab("eval", "--task", task, "--model", str(model), "--n", "6", "--k", "0", "--completions-out", str(path))
        out[task] = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return out
