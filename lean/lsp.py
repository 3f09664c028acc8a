"""The whole LSP wire protocol we speak with Lean's file worker, as typed structures.

Framing is JSON-RPC 2.0 with `Content-Length` headers (LSP base protocol). Only the handful of messages
the environment needs are modelled: initialize, didOpen/didChange, Lean's waitForDiagnostics,
plainGoal and publishDiagnostics.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

HEADER_SEP = b"\r\n\r\n"


class FramingError(ValueError):
    """The byte stream is not valid LSP framing."""


def encode(msg: dict) -> bytes:
    body = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Decoder:
    """Incremental decoder: feed bytes in any chunking, get whole messages out."""

    def __init__(self, max_body: int = 256 << 20):
        self.buf = bytearray()
        self.max_body = max_body
        self.junk = bytearray()  # non-LSP bytes seen between messages (kept for diagnosis)

    def feed(self, data: bytes) -> Iterator[dict]:
        self.buf += data
        while True:
            end = self.buf.find(HEADER_SEP)
            if end < 0:
                # tolerate stray lines before a header (e.g. a runtime printing to stdout)
                nl = self.buf.rfind(b"\n")
                if nl >= 0 and b"Content-Length" not in self.buf:
                    self.junk += self.buf[: nl + 1]
                    del self.buf[: nl + 1]
                return
            head = bytes(self.buf[:end])
            start = head.rfind(b"Content-Length")
            if start < 0:
                raise FramingError(f"header block without Content-Length: {head[:200]!r}")
            if start > 0:
                self.junk += head[:start]
                head = head[start:]
            length = None
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    try:
                        length = int(value.strip())
                    except ValueError:
                        raise FramingError(f"bad Content-Length value {value[:40]!r}")
            if length is None or length < 0 or length > self.max_body:
                raise FramingError(f"unacceptable Content-Length {length}")
            body_start = end + len(HEADER_SEP)
            if len(self.buf) < body_start + length:
                return
            body = bytes(self.buf[body_start : body_start + length])
            del self.buf[: body_start + length]
            try:
                msg = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise FramingError(f"body is not UTF-8 JSON: {e}")
            if not isinstance(msg, dict):
                raise FramingError(f"body is not a JSON object: {type(msg).__name__}")
            yield msg


@dataclass(frozen=True)
class Position:
    line: int  # 0-based
    character: int  # UTF-16 code units, as LSP counts

    def to_json(self) -> dict:
        return {"line": self.line, "character": self.character}

    @staticmethod
    def from_json(d: dict) -> "Position":
        return Position(int(d["line"]), int(d["character"]))


@dataclass(frozen=True)
class Diagnostic:
    start: Position
    end: Position
    severity: int  # 1 error, 2 warning, 3 information, 4 hint
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == 1

    @staticmethod
    def from_json(d: dict) -> "Diagnostic":
        r = d.get("fullRange") or d["range"]
        return Diagnostic(Position.from_json(r["start"]), Position.from_json(r["end"]), int(d.get("severity", 1)), str(d.get("message", "")))


def request(id_: int, method: str, params: Any) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


def notification(method: str, params: Any) -> dict:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def response(id_: Any, result: Any = None) -> dict:
    return {"jsonrpc": "2.0", "id": id_, "result": result}


def initialize(id_: int, root_uri: str) -> dict:
    return request(id_, "initialize", {"processId": None, "rootUri": root_uri, "capabilities": {}})


def did_open(uri: str, version: int, text: str) -> dict:
    return notification("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "lean", "version": version, "text": text}})


def did_change(uri: str, version: int, text: str) -> dict:
    return notification("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})


def wait_for_diagnostics(id_: int, uri: str, version: int) -> dict:
    return request(id_, "textDocument/waitForDiagnostics", {"uri": uri, "version": version})


def plain_goal(id_: int, uri: str, pos: Position) -> dict:
    return request(id_, "$/lean/plainGoal", {"textDocument": {"uri": uri}, "position": pos.to_json()})


def rpc_call(id_: int, uri: str, pos: Position, method: str, params: Any, session: str = "0") -> dict:
    """`$/lean/rpc/call`: a user RPC method of the document, looked up in the environment at `pos`."""
    return request(id_, "$/lean/rpc/call", {"textDocument": {"uri": uri}, "position": pos.to_json(),
                                            "sessionId": session, "method": method, "params": params})


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def end_position(text: str) -> Position:
    """LSP position just past the end of `text`."""
    lines = text.split("\n")
    return Position(len(lines) - 1, utf16_len(lines[-1]))
