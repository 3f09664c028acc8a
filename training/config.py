"""Supervised fine-tuning configuration: a frozen dataclass, validated, loadable from YAML."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SFTConfig", "ConfigError"]


class ConfigError(ValueError):
    """A configuration value or file is invalid; the message says what to change."""


@dataclass(frozen=True)
class SFTConfig:
    """Hyper-parameters of one supervised fine-tuning run.

    `max_steps` (if set) caps optimizer steps across epochs; `warmup` is linear warmup steps;
    `bf16` is "auto" (bf16 autocast on CUDA only), True or False.
    """

    lr: float = 3e-4
    epochs: int = 1
    batch_size: int = 8
    max_steps: int | None = None
    max_len: int = 512
    seed: int = 0
    replay_fraction: float = 0.0
    device: str = "auto"
    bf16: bool | str = "auto"
    grad_clip: float | None = 1.0
    warmup: int = 0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ConfigError:
            return ConfigError(f"SFTConfig.{name} = {getattr(self, name)!r}: {why}")

        if not isinstance(self.lr, (int, float)) or not self.lr > 0:
            raise bad("lr", "must be a positive number, e.g. 3e-4")
        for name in ("epochs", "batch_size", "max_len"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise bad(name, "must be an integer >= 1")
        if self.max_len < 8:
            raise bad("max_len", "must be at least 8 tokens to hold a prompt and a tactic")
        if self.max_steps is not None and (not isinstance(self.max_steps, int) or self.max_steps < 1):
            raise bad("max_steps", "must be an integer >= 1, or null for no cap")
        if not isinstance(self.seed, int):
            raise bad("seed", "must be an integer")
        if not isinstance(self.replay_fraction, (int, float)) or not 0 <= self.replay_fraction < 1:
            raise bad("replay_fraction", "must be in [0, 1): the share of old examples in each training set")
        if not isinstance(self.device, str) or not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise bad("device", "must be 'auto', 'cpu' or 'cuda[:N]'")
        if self.bf16 not in ("auto", True, False):
            raise bad("bf16", "must be 'auto', true or false")
        if self.grad_clip is not None and (not isinstance(self.grad_clip, (int, float)) or self.grad_clip <= 0):
            raise bad("grad_clip", "must be a positive number, or null to disable clipping")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise bad("warmup", "must be an integer >= 0 (linear warmup steps)")
        if not isinstance(self.weight_decay, (int, float)) or self.weight_decay < 0:
            raise bad("weight_decay", "must be >= 0")

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SFTConfig:
        """Build from a mapping; unknown keys are an error listing the valid ones."""
        if not isinstance(data, dict):
            raise ConfigError(f"config must be a mapping of option -> value, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise ConfigError(
                f"unknown SFTConfig key(s): {', '.join(map(str, unknown))}; valid keys are: {', '.join(cls.field_names())}"
            )
        try:
            return cls(**data)
        except TypeError as e:  # pragma: no cover - guarded by the key check
            raise ConfigError(str(e)) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> SFTConfig:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"{p}: config file not found")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{p}: invalid YAML: {e}") from None
        try:
            return cls.from_dict(data)
        except ConfigError as e:
            raise ConfigError(f"{p}: {e}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
