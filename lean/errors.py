"""Typed exceptions. Each message names the problem and the fix."""
from __future__ import annotations


class LeanAgentError(Exception):
    """Base of every error this package raises on purpose."""


class LeanConfigError(LeanAgentError, ValueError):
    """A configuration value is invalid."""


class ToolchainError(LeanAgentError):
    """The Lean toolchain could not be installed, patched or found."""


class DojoInitError(LeanAgentError):
    """The theorem could not be turned into a proof state (missing file, unknown name, file does not elaborate)."""


class DojoCrashError(LeanAgentError):
    """The Lean process died and could not be brought back."""


class DojoStallError(DojoCrashError):
    """Lean sat idle (no CPU used) with a request pending: it will never answer, so it is restarted at once
    instead of waiting out the timeout. Callers that retry after a crash retry after a stall too."""


class DojoSilenceError(DojoStallError):
    """Lean said nothing (no message, no stderr line) for `LeanConfig.init_silence` seconds while a worker
    started, or for `import_silence` while it loaded the imports: the rare wasm hang, which keeps a core
    busy. Handled as a stall."""


class DojoTimeoutError(LeanAgentError):
    """Lean did not answer within the wall-clock limit."""


class InvalidStateError(LeanAgentError, KeyError):
    """A state handle that this Dojo never produced, or one that is not a TacticState."""
