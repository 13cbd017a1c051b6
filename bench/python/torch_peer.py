"""PyTorch's side of the CPU benchmark (bench/cpu.ts drives it): the lab's model as a Hugging Face
GPT2LMHeadModel (the folder `grpo-lab export --format hf` writes), the same GRPO batch, and

  train_step  forward, log-softmax gathered at the targets, TRL's GRPO loss (clipped ratio, loss_type
              grpo: per-sequence token mean, then the mean over sequences; group advantages with the
              sample std + 1e-4), backward, clip_grad_norm_(1.0), AdamW
  rollout     sampling with the KV cache: the prompts prefilled in one pass, then one position at a
              time, torch.multinomial at temperature 1 (mode "loop"), or transformers' generate()
              (mode "generate"), every sequence to exactly new_tokens tokens

at torch.set_num_threads(threads) given with each command, so that each of the lab's backends is
measured against torch on as many cores as it uses itself.

Protocol: one JSON object a line on stdin, one answer a line on the process's original stdout
(everything else printed, by this file or by the libraries, goes to stderr). Each answer carries the
command's own time in ms, measured here (perf_counter), so the pipe is not in it.
"""
import json
import os
import sys
import time

# the protocol keeps the original stdout; everything else written there goes to stderr
PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import GPT2LMHeadModel  # noqa: E402

# one pool of intra-op threads, resized per command; no inter-op parallelism on either side
torch.set_num_interop_threads(1)


class Session:
    """One model, its AdamW, and one GRPO batch."""

    def __init__(self, msg: dict):
        self.model = GPT2LMHeadModel.from_pretrained(msg["model"], dtype=torch.float32)
        self.model.train()  # dropout is 0 in the exported config: train() and eval() compute the same
        adam = msg["adam"]
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=msg["learning_rate"], betas=(adam["beta1"], adam["beta2"]),
                                     eps=adam["eps"], weight_decay=adam["weight_decay"])
        self.max_grad_norm = adam["max_grad_norm"]
        self.epsilon = msg["epsilon"]
        b = msg["batch"]
        self.P, self.G, self.N, self.T = b["P"], b["G"], b["N"], b["T"]
        self.inputs = torch.tensor(b["inputs"], dtype=torch.long).view(self.N, self.T)
        self.targets = torch.tensor(b["targets"], dtype=torch.long).view(self.N, self.T)
        self.mask = torch.tensor(b["mask"], dtype=torch.float32).view(self.N, self.T)
        self.rewards = torch.tensor(b["rewards"], dtype=torch.float32)

    def train_step(self) -> dict:
        model, opt = self.model, self.opt
        opt.zero_grad(set_to_none=True)
        # TRL's group advantages: (r − mean) / (std + 1e-4), std the sample one
        grouped = self.rewards.view(self.P, self.G)
        advantages = ((grouped - grouped.mean(1, keepdim=True)) / (grouped.std(1, keepdim=True) + 1e-4)).view(self.N, 1)
        logits = model(input_ids=self.inputs).logits
        logp = torch.log_softmax(logits, dim=-1).gather(-1, self.targets.unsqueeze(-1)).squeeze(-1)
        # μ = 1: the old policy is this one (TRL's per_token_logps.detach()), so the ratio is 1 with its gradient
        coef_1 = torch.exp(logp - logp.detach())
        coef_2 = torch.clamp(coef_1, 1 - self.epsilon, 1 + self.epsilon)
        per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages)
        loss = ((per_token_loss * self.mask).sum(-1) / self.mask.sum(-1).clamp(min=1.0)).mean()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), self.max_grad_norm)
        opt.step()
        return {"grad_norm": float(norm), "loss": float(loss)}

    @torch.inference_mode()
    def rollout(self, prompts: list[list[int]], new_tokens: int, seed: int, mode: str) -> dict:
        model = self.model
        ids = torch.tensor(prompts, dtype=torch.long)
        gen = torch.Generator().manual_seed(seed)
        if mode == "generate":
            torch.manual_seed(seed)
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                                 max_new_tokens=new_tokens, min_new_tokens=new_tokens, pad_token_id=0)
            completions = out[:, ids.shape[1]:]
        else:
            step = model(input_ids=ids, use_cache=True)
            cache = step.past_key_values
            logits = step.logits[:, -1]
            sampled = []
            for k in range(new_tokens):
                token = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen)
                sampled.append(token)
                if k + 1 == new_tokens:
                    break
                step = model(input_ids=token, past_key_values=cache, use_cache=True)
                cache = step.past_key_values
                logits = step.logits[:, -1]
            completions = torch.cat(sampled, dim=1)
        return {"completion_lengths_ok": bool(completions.shape == (len(prompts), new_tokens))}


def answer(obj: dict) -> None:
    PROTOCOL.write(json.dumps(obj) + "\n")


def main() -> None:
    session = None
    answer({"ready": True, "torch": torch.__version__, "transformers": transformers.__version__, "cores": os.cpu_count()})
    for line in sys.stdin:
        if not line.strip():
            continue
        msg = json.loads(line)
        cmd = msg.get("cmd")
        try:
            if cmd == "quit":
                answer({"ok": True})
                return
            if "threads" in msg:
                torch.set_num_threads(int(msg["threads"]))
            t0 = time.perf_counter()
            if cmd == "load":
                session = Session(msg)
                out = {"attn_implementation": session.model.config._attn_implementation,
                       "parameters": sum(p.numel() for p in session.model.parameters())}
            elif cmd in ("train_step", "rollout") and session is None:
                raise ValueError(f"{cmd} before load")
            elif cmd == "train_step":
                out = session.train_step()
            elif cmd == "rollout":
                if msg.get("mode", "loop") not in ("loop", "generate"):
                    raise ValueError(f"rollout mode {msg.get('mode')!r}; allowed: loop, generate")
                out = session.rollout(msg["prompts"], int(msg["new_tokens"]), int(msg["seed"]), msg.get("mode", "loop"))
            else:
                raise ValueError(f"unknown command {cmd!r}; allowed: load, train_step, rollout, quit")
            ms = (time.perf_counter() - t0) * 1000
            answer({"ok": True, "ms": ms, "threads": torch.get_num_threads(), **out})
        except Exception as e:  # the driver names the command that failed and stops
            answer({"ok": False, "error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
