"""services/status.py is the only writer of a registration's status and of Event rows."""

from __future__ import annotations

import ast
from pathlib import Path

import registry

PACKAGE = Path(registry.__file__).parent
WRITER = PACKAGE / "services" / "status.py"


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if p != WRITER)


def _is_draft(node: ast.expr) -> bool:
    """``Status.DRAFT.value`` or ``Status.DRAFT``: the one status a registration is born with."""
    text = ast.unparse(node)
    return text in {"Status.DRAFT.value", "Status.DRAFT"}


def test_no_module_but_status_assigns_a_status_or_makes_an_event():
    offences = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    offences.append(f"{where}:{node.lineno}: {ast.unparse(target)} = ...")
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                if name == "setattr" and len(node.args) > 1:
                    if isinstance(node.args[1], ast.Constant) and node.args[1].value == "status":
                        offences.append(f"{where}:{node.lineno}: setattr(..., 'status', ...)")
                if name in {"Event", "models.Event"}:  # the table, not e.g. threading.Event
                    offences.append(f"{where}:{node.lineno}: {name}(...) outside status.py")
                if name.endswith("Registration"):
                    for kw in node.keywords:
                        if kw.arg == "status" and not _is_draft(kw.value):
                            offences.append(
                                f"{where}:{node.lineno}: Registration(status="
                                f"{ast.unparse(kw.value)}) (only a draft is made directly)"
                            )
    assert not offences, "\n".join(offences)


def test_the_writer_itself_is_seen_by_the_check():
    """The check would catch the writer's own assignment (it is not vacuous)."""
    tree = ast.parse(WRITER.read_text(encoding="utf-8"))
    assigned = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign)
        and any(isinstance(t, ast.Attribute) and t.attr == "status" for t in n.targets)
    ]
    assert assigned
