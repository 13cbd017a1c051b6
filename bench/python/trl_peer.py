"""TRL's side of the CPU benchmark's whole GRPO step (bench/cpu.ts drives it): the project that
`grpo-lab export --format trl` wrote for the bench's run, its train.py run unchanged, with one
callback added that times each optimizer step and lets the driver take turns with the lab.

    python trl_peer.py PROJECT_DIR --threads N --steps K --output_dir DIR

One TRL optimizer step here is one GRPO step of the lab (steps_per_generation 1, num_iterations 1,
gradient_accumulation_steps 1: train.py's GRPOConfig says so): generate() of the rollout, the
rewards, the group advantages, the loss, backward, clipping and AdamW. The clock runs from
Trainer's on_step_begin to its on_step_end, so it holds all of that (TRL's own step_time, also
reported, leaves out the clipping and the optimizer step) and none of the logging after it.

Protocol: before each step a line {"event": "ready", "step": i} on the original stdout, then it
waits for one line on stdin (any) before starting the step; after it {"event": "step", ...}; TRL's
logged metrics as {"event": "log", ...}; {"event": "done"} at the end. Everything else printed goes
to stderr.
"""
import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the CPU peer, even on a machine with a GPU

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402


def emit(obj: dict) -> None:
    PROTOCOL.write(json.dumps(obj) + "\n")


LOGGED = ("step_time", "completions/mean_length", "reward", "loss", "grad_norm", "num_tokens")


class StepClock(TrainerCallback):
    """Waits for the driver's turn before each optimizer step and times the step."""

    def __init__(self):
        self.t0 = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        emit({"event": "ready", "step": state.global_step})
        if not sys.stdin.readline():
            raise SystemExit("trl_peer: the driver closed stdin")
        self.t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        emit({"event": "step", "step": state.global_step, "ms": (time.perf_counter() - self.t0) * 1000,
              "threads": torch.get_num_threads()})

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "step_time" in logs:
            emit({"event": "log", "step": state.global_step, **{k: logs[k] for k in LOGGED if k in logs}})


def load_train_py(project: Path):
    spec = importlib.util.spec_from_file_location("train", project / "train.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(project))
    spec.loader.exec_module(module)
    return module


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("project", type=Path)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--output_dir", required=True)
    a = p.parse_args()
    torch.set_num_interop_threads(1)
    torch.set_num_threads(a.threads)
    train = load_train_py(a.project)

    class TimedTrainer(train.LabGRPOTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.add_callback(StepClock())

    train.LabGRPOTrainer = TimedTrainer  # main() builds its trainer from this name
    import trl
    emit({"event": "start", "trl": trl.__version__, "torch": torch.__version__, "threads": torch.get_num_threads()})
    # one held-out problem for the evaluation train.py runs after its last step (not timed)
    train.main(["--max_steps", str(a.steps), "--output_dir", a.output_dir, "--eval_problems", "1"])
    emit({"event": "done"})


if __name__ == "__main__":
    main()
