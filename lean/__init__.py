"""The Lean environment: a real Lean 4 behind lean-dojo's vocabulary.

    from lean import Dojo, Theorem, TacticState, ProofFinished, LeanError, ProofGivenUp
"""
from lean.config import LeanConfig
from lean.dojo import Dojo, Theorem
from lean.errors import (DojoCrashError, DojoInitError, DojoSilenceError, DojoStallError, DojoTimeoutError, InvalidStateError, LeanAgentError,
                         LeanConfigError, ToolchainError)
from lean.results import Goal, LeanError, NotAudited, ProofFinished, ProofGivenUp, TacticResult, TacticState, parse_goals
from lean.server import LeanServer, default_server, shutdown_default_server

__all__ = ["Dojo", "Theorem", "TacticState", "ProofFinished", "LeanError", "ProofGivenUp", "TacticResult", "NotAudited", "Goal",
           "parse_goals", "LeanConfig", "LeanServer", "default_server", "shutdown_default_server", "DojoCrashError",
           "DojoStallError", "DojoSilenceError", "DojoInitError", "DojoTimeoutError", "InvalidStateError", "LeanAgentError", "LeanConfigError", "ToolchainError"]
