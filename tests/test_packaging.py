"""The project's packaging states each dependency once in substance: requirements*.txt are the
inputs, pyproject.toml repeats their pins, and the lock files (with hashes) are compiled from
them. A pin changed in one place and not the others fails here (re-compile the locks as the
README says, under "The lock files")."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from registry import ROOT

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = _PIN.match(line)
        assert match, f"not pinned with ==: {line}"
        pins[_name(match.group(1))] = match.group(3)
    return pins


def _project() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_pyproject_repeats_requirements_txt():
    assert _project()["dependencies"] == _requirements(ROOT / "requirements.txt")
    assert _project()["optional-dependencies"]["dev"] == _requirements(
        ROOT / "requirements-dev.txt"
    )


@pytest.mark.parametrize(
    "inputs, lock",
    [
        (["requirements.txt"], "requirements.lock"),
        (["requirements.txt", "requirements-dev.txt"], "requirements-dev.lock"),
    ],
)
def test_the_locks_hold_every_pin_with_hashes(inputs, lock):
    text = (ROOT / lock).read_text()
    locked = dict((_name(m.group(1)), m.group(3)) for m in map(_PIN.match, text.splitlines()) if m)
    wanted = {}
    for name in inputs:
        wanted.update(_pins(_requirements(ROOT / name)))
    assert {n: locked.get(n) for n in wanted} == wanted, f"re-compile {lock}"
    # Every package of the lock is hashed (pip install --require-hashes depends on it).
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert entries and all("--hash=sha256:" in entry for entry in entries)
