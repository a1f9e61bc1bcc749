import hashlib
import io

import pytest

from registry.storage import DepositStore, DepositTooLarge


def files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_stage_and_promote(tmp_path):
    store = DepositStore(tmp_path)
    data = b"hello deposit"
    sha = hashlib.sha256(data).hexdigest()
    with store.stage(io.BytesIO(data), limit=100) as staged:
        assert staged.sha256 == sha and staged.size == len(data)
        assert staged.path.parent == store.tmp
        assert staged.promote() is True
    assert files(tmp_path) == [f"{sha[:2]}/{sha[2:4]}/{sha}"]
    assert store.read_bytes(sha) == data


def test_same_bytes_are_stored_once(tmp_path):
    store = DepositStore(tmp_path)
    for _ in range(2):
        with store.stage_bytes(b"twice", limit=100) as staged:
            created = staged.promote()
    assert created is False
    assert len(files(tmp_path)) == 1


def test_unpromoted_files_are_removed(tmp_path):
    store = DepositStore(tmp_path)
    with store.stage_bytes(b"discard me", limit=100):
        pass
    assert files(tmp_path) == []
    with pytest.raises(RuntimeError), store.stage_bytes(b"and me", limit=100):
        raise RuntimeError("boom")
    assert files(tmp_path) == []


def test_size_limit_stops_reading_and_leaves_nothing(tmp_path):
    store = DepositStore(tmp_path)

    class Endless(io.RawIOBase):
        reads = 0

        def read(self, n=-1):
            self.reads += 1
            return b"x" * 1024 * 1024

    stream = Endless()
    with pytest.raises(DepositTooLarge), store.stage(stream, limit=3 * 1024 * 1024):
        pass
    assert stream.reads == 4
    assert files(tmp_path) == []


def test_path_for_refuses_non_digests(tmp_path):
    with pytest.raises(ValueError):
        DepositStore(tmp_path).path_for("../../etc/passwd")
