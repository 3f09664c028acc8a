"""Our states read correctly through lean-dojo's own goal parser (lean-dojo installed with --no-deps).

lean-dojo's package __init__ pulls in ray and GitHub clients, so its parser module is loaded by file.
"""
from __future__ import annotations

import importlib.util
from importlib import metadata

import pytest

from lean import Dojo, Theorem


def _lean_dojo_parse_goals():
    try:
        dist = metadata.distribution("lean-dojo")
    except metadata.PackageNotFoundError:
        pytest.skip("lean-dojo is not installed: pip install --no-deps lean-dojo")
    path = dist.locate_file("lean_dojo/interaction/parse_goals.py")
    spec = importlib.util.spec_from_file_location("lean_dojo_parse_goals", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.parse_goals


@pytest.mark.lean
def test_states_round_trip_through_lean_dojo_parser(demo_file, lean_server):
    parse_goals = _lean_dojo_parse_goals()
    with Dojo(Theorem(demo_file, "and_swap"), server=lean_server) as (dojo, s0):
        s1 = dojo.run_tac(s0, "constructor")
        for state in (s0, s1):
            theirs = parse_goals(state.pp)
            ours = state.goals
            assert len(theirs) == len(ours) == state.num_goals
            for t, o in zip(theirs, ours):
                assert t.conclusion == o.target
                flat = [(n, ty) for names, ty in o.hypotheses for n in names.split()]
                assert [(d.ident, d.lean_type) for d in t.assumptions] == flat
