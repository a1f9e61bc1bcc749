"""Fuzz text deposits: ``deposits.decode_text`` and ``deposits.inspect`` as a text on arbitrary
bytes, and ``provenance.read_text`` (explicit AI labels) on whatever text they give.

    python tests/fuzz/fuzz_text.py CORPUS_DIR -max_total_time=30

A text is accepted (UTF-8, no control characters, something visible) or refused with
``DepositRejected``; the labels found in any text are judged and stored as JSON without error.
"""

from __future__ import annotations

import json
import sys
import tempfile
import unicodedata
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository

with atheris.instrument_imports():
    from registry import deposits, provenance
    from registry.domain.vocabulary import DepositKind

import seeds  # noqa: E402

UPLOAD = Path(tempfile.mkdtemp(prefix="fuzz-text-")) / "upload"
ALLOWED = {"\t", "\n", "\r", "\f", "\x85"}  # U+0085, next line, is a line break


def check_labels(text: str) -> None:
    found = provenance.read_text(text)
    for f in found.findings:
        if text[f.position : f.position + len(f.value)] != f.value:
            raise AssertionError(f"label {f.value!r} is not at {f.position}")
    provenance.judge(found, declared_source_type="digitalCreation", declared_ai_tools=[])
    json.dumps(found.to_dict(), ensure_ascii=False).encode("utf-8")


def test_one_input(data: bytes) -> None:
    try:
        text = deposits.decode_text(data)
    except deposits.DepositRejected as exc:
        if not str(exc).strip():
            raise AssertionError("a rejection without a message") from exc
        text = None
    else:
        bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in ALLOWED]
        if bad or not text.strip():
            raise AssertionError(f"accepted a text with {bad[:3]!r} or nothing in it")
    UPLOAD.write_bytes(data)
    try:
        info = deposits.inspect(
            UPLOAD, expected=DepositKind.TEXT, max_pixels=1_000_000, max_text_bytes=4096
        )
    except deposits.DepositRejected:
        pass
    else:
        if info.kind == DepositKind.TEXT and (text is None or info.char_count != len(text)):
            raise AssertionError("inspect and decode_text disagree")
    check_labels(text if text is not None else data.decode("utf-8", "replace"))


def main() -> None:
    corpus = seeds.corpus_dir(sys.argv)
    if corpus is not None:
        seeds.write_corpus(corpus, [*seeds.TEXTS, b"\xef\xbb\xbf", b"AI-generated\x00", b" \n"])
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
