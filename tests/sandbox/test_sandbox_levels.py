"""Choosing the isolation level: detection, forcing through KIT_ISOLATION, the promise table."""

from __future__ import annotations

import pytest

from autograder.sandbox import levels
from autograder.sandbox.worker.confinement import isolation

from ._support import VARIANTS


def test_every_level_is_described_and_promises_only_known_threats():
    assert levels.LEVELS == isolation.LEVELS
    for level in levels.LEVELS:
        assert levels.PROMISES[level] <= set(levels.THREATS)
        assert f"``{level}``" in levels.__doc__
    for threat in levels.THREATS:
        assert f"(``{threat}``)" in levels.__doc__, f"threat {threat} missing from the promise table"


def test_stronger_levels_promise_more():
    ordered = [levels.PROMISES[level] for level in levels.LEVELS]
    for stronger, weaker in zip(ordered, ordered[1:], strict=False):
        assert stronger >= weaker


def test_rlimits_is_always_available():
    assert levels.available("rlimits") == (True, "")


def test_detect_picks_the_strongest_available(monkeypatch):
    monkeypatch.setattr(levels, "available", lambda level: (level == "landlock", ""))
    assert levels.detect_level() == "landlock"
    monkeypatch.setattr(levels, "available", lambda level: (level == "rlimits", ""))
    assert levels.detect_level() == "rlimits"


def test_environment_forces_a_level(monkeypatch):
    monkeypatch.setenv(levels.ENV_VAR, "rlimits")
    assert levels.resolve_level() == "rlimits"
    monkeypatch.setenv(levels.ENV_VAR, "auto")
    assert levels.resolve_level() == levels.detect_level()
    assert levels.resolve_level("rlimits") == "rlimits"  # an explicit argument wins over the variable


def test_unknown_level_is_refused(monkeypatch):
    monkeypatch.setenv(levels.ENV_VAR, "chroot")
    with pytest.raises(ValueError, match="unknown isolation level"):
        levels.resolve_level()


def test_forcing_an_unavailable_level_fails_loudly(monkeypatch):
    monkeypatch.setattr(levels, "_probe_namespaces", lambda: (False, "no user namespaces"))
    with pytest.raises(levels.IsolationUnavailable, match="no user namespaces"):
        levels.resolve_level("namespaces")


def test_weak_levels_drop_promises_they_cannot_keep_as_root(monkeypatch):
    monkeypatch.setattr(levels.os, "geteuid", lambda: 0)
    assert "forkbomb" not in levels.promises("rlimits")
    assert "forkbomb" in levels.promises("rlimits", {"cgroup": {"pids": "/sys/fs/cgroup/pids/kit"}})
    assert "forkbomb" in levels.promises("namespaces")
    assert "tree_memory" not in levels.promises("namespaces", {"cgroup": None})
    assert "tree_memory" in levels.promises("landlock", {"cgroup": {"memory": "/sys/fs/cgroup/memory/kit"}})


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_zygote_records_its_level(zygotes, variant):
    z = zygotes(variant)
    assert z.level == VARIANTS[variant][0]
    assert z.details["level"] == z.level
