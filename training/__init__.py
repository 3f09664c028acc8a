"""Training of tactic policies: datasets, SFT, expert iteration, CLI."""
from training.config import ConfigError, SFTConfig
from training.data import DataError, Example, ReplayBuffer, load_examples, save_examples, with_first_steps
from training.expert_iteration import examples_from_edges, examples_from_proof
from training.trainer import SFTTrainer, TrainResult, file_sha256

__all__ = [
    "ConfigError", "SFTConfig", "DataError", "Example", "ReplayBuffer", "load_examples", "save_examples", "with_first_steps",
    "examples_from_edges", "examples_from_proof", "SFTTrainer", "TrainResult", "file_sha256",
]
