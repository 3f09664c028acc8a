"""Supervised fine-tuning of a `TransformerPolicy` on (state, tactic) examples.

The loss covers only the tactic tokens (the prompt is masked), so the model learns to *propose*
tactics, not to reproduce goals.  Runs on CUDA with bf16 autocast when present, else CPU fp32, and is
deterministic for a given seed on CPU.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from prover.policy import TransformerPolicy, resolve_device
from training.config import SFTConfig
from training.data import Example, ReplayBuffer

__all__ = ["SFTTrainer", "TrainResult", "file_sha256", "MANIFEST_FILE"]

MANIFEST_FILE = "manifest.json"


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class TrainResult:
    """What a run did: per-step losses, how many examples it saw, how long, where."""

    losses: tuple[float, ...]
    examples_used: int
    steps: int
    seconds: float
    device: str
    initial_loss: float | None = None
    final_loss: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "losses": list(self.losses), "examples_used": self.examples_used, "steps": self.steps,
            "seconds": round(self.seconds, 3), "device": self.device,
            "initial_loss": self.initial_loss, "final_loss": self.final_loss, **self.extra,
        }


class SFTTrainer:
    """Fine-tunes `policy.model` in place; `save_checkpoint` writes it with a manifest."""

    def __init__(self, policy: TransformerPolicy, config: SFTConfig | None = None, parent: str | None = None) -> None:
        self.policy = policy
        self.config = config or SFTConfig()
        self.parent = parent
        self.device, _ = resolve_device(self.config.device)
        use_bf16 = self.config.bf16 is True or (self.config.bf16 == "auto" and self.device.type == "cuda")
        self.amp_dtype: torch.dtype | None = torch.bfloat16 if use_bf16 else None
        self.result: TrainResult | None = None
        self._n_examples = 0

    # ---- encoding -----------------------------------------------------------------------------

    def _encode(self, ex: Example) -> tuple[list[int], list[int]]:
        """(prompt ids, tactic ids + eos), fitted into config.max_len and the model's positions."""
        pol = self.policy
        limit = self.config.max_len
        maxpos = pol._max_positions()
        if maxpos and not pol.is_seq2seq:
            limit = min(limit, maxpos)
        tgt = pol.encode_tactic(ex.tactic, max_tokens=max(limit // 2, 2))
        budget = min(pol.max_prompt_len, limit - len(tgt)) if not pol.is_seq2seq else min(pol.max_prompt_len, limit)
        return pol.encode_prompt(ex.state, None, max(budget, 1)), tgt

    def _autocast(self) -> Any:
        if self.amp_dtype is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _batch_loss(self, pairs: Sequence[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, int]:
        """Token-mean NLL over tactic tokens, and the token count."""
        batch = self.policy.collate([p for p, _ in pairs], [t for _, t in pairs])
        with self._autocast():
            tok_lp, valid = self.policy.token_logprobs(batch)
        n = int(valid.sum())
        return -tok_lp.sum() / max(n, 1), n

    # ---- public API ---------------------------------------------------------------------------

    def train(
        self,
        examples: Sequence[Example],
        old_examples: Sequence[Example] | None = None,
        on_log: Callable[[int, float], None] | None = None,
    ) -> TrainResult:
        """Train on `examples` (+ replayed `old_examples` at config.replay_fraction).

        `on_log(step, loss)` is called after every optimizer step (the CLI prints from it).
        """
        cfg = self.config
        if not examples:
            raise ValueError("no training examples; pass at least one Example")
        data = ReplayBuffer(old_examples or ()).mix(list(examples), cfg.replay_fraction if old_examples else 0.0, cfg.seed)
        self._n_examples = len(data)
        encoded = [self._encode(ex) for ex in data]
        steps_per_epoch = math.ceil(len(encoded) / cfg.batch_size)
        total = steps_per_epoch * cfg.epochs
        if cfg.max_steps is not None:
            total = min(total, cfg.max_steps)
        torch.manual_seed(cfg.seed)
        rng = random.Random(cfg.seed)
        model = self.policy.model
        self.policy.to(self.device, torch.float32)  # master weights in fp32; bf16 only via autocast
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (cfg.warmup + 1)))
        losses: list[float] = []
        used = 0
        start = time.perf_counter()
        initial = self.evaluate_loss(data[: min(len(data), 64)]) if data else None
        model.train()
        try:
            from tqdm import tqdm

            bar: Any = tqdm(total=total, file=sys.stderr, disable=not sys.stderr.isatty(), desc="sft", leave=False)
        except ImportError:  # pragma: no cover
            bar = None
        step = 0
        while step < total:
            order = list(range(len(encoded)))
            rng.shuffle(order)
            for s in range(0, len(order), cfg.batch_size):
                if step >= total:
                    break
                pairs = [encoded[i] for i in order[s:s + cfg.batch_size]]
                loss, _ = self._batch_loss(pairs)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
                opt.step()
                sched.step()
                step += 1
                used += len(pairs)
                losses.append(float(loss.detach()))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{losses[-1]:.4f}")
                if on_log is not None:
                    on_log(step, losses[-1])
        if bar is not None:
            bar.close()
        final = self.evaluate_loss(data[: min(len(data), 64)])
        self.policy.to(self.device, self.policy.dtype if self.device.type == "cuda" else torch.float32)
        model.eval()
        self.result = TrainResult(
            losses=tuple(losses), examples_used=used, steps=step, seconds=time.perf_counter() - start,
            device=str(self.device), initial_loss=initial, final_loss=final,
            extra={"n_examples": len(data), "amp": str(self.amp_dtype).replace("torch.", "") if self.amp_dtype else None},
        )
        return self.result

    @torch.no_grad()
    def evaluate_loss(self, examples: Sequence[Example], batch_size: int | None = None) -> float:
        """Token-mean NLL of the tactics given their states (eval mode, no dropout)."""
        if not examples:
            raise ValueError("evaluate_loss needs at least one example")
        model = self.policy.model
        was_training = model.training
        model.eval()
        bs = batch_size or max(self.config.batch_size, 16)
        total, count = 0.0, 0
        enc = [self._encode(ex) for ex in examples]
        for s in range(0, len(enc), bs):
            loss, n = self._batch_loss(enc[s:s + bs])
            total += float(loss) * n
            count += n
        model.train(was_training)
        return total / max(count, 1)

    def save_checkpoint(
        self,
        out_dir: str | Path,
        manifest: dict[str, Any] | None = None,
        *,
        data_files: Sequence[str | Path] = (),
    ) -> Path:
        """Save the policy to `out_dir` plus `manifest.json` (provenance of this checkpoint).

        The manifest records data files with their sha256, example count, config, parent
        checkpoint, losses and timing; entries of `manifest` are merged in (and win).
        """
        out = self.policy.save(out_dir)
        res = self.result
        info: dict[str, Any] = {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "data_files": [{"path": str(Path(f).resolve()), "sha256": file_sha256(f)} for f in data_files],
            "n_examples": self._n_examples,
            "config": self.config.to_dict(),
            "parent": self.parent,
            "final_loss": res.final_loss if res else None,
            "initial_loss": res.initial_loss if res else None,
            "steps": res.steps if res else 0,
            "examples_used": res.examples_used if res else 0,
            "seconds": round(res.seconds, 3) if res else 0.0,
            "device": res.device if res else str(self.device),
            "model": self.policy.meta,
        }
        info.update(manifest or {})
        (out / MANIFEST_FILE).write_text(json.dumps(info, indent=1, sort_keys=True, default=str))
        return out
