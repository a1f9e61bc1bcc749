"""The content-addressed deposit store: each file is kept once, under the SHA-256 of its bytes.

Writing happens in two steps so a filing's rows and its file stand or fall together. ``stage``
streams an upload into a temporary file in the store's own folder (size-limited, hashed on the
way, fsynced); the service inspects it, writes its rows, then ``promote`` renames it into place
(atomic on one file system) just before the commit. A rejected upload is discarded and leaves
nothing behind.

A disk that is full, over its quota or read-only makes ``stage`` and ``promote`` raise
:class:`StorageUnavailable` (what went wrong is in its ``reason``), the temporary file removed:
the registry cannot take deposits until someone frees space, which is not the sender's fault.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class DepositTooLarge(ValueError):
    """Raised by :meth:`DepositStore.stage` when the stream is longer than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit} bytes")
        self.limit = limit


# A disk full, over its quota, a file over the size the system allows, a read-only file system.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})


class StorageUnavailable(RuntimeError):
    """The registry cannot store deposits right now (its disk, or its database's, is full or
    read-only). ``str(exc)`` is for the person who sent the deposit; ``reason`` for the log."""

    MESSAGE = (
        "The registry cannot store deposits right now, so nothing was saved. This is a fault "
        "on our side, not in what you sent: please try again later."
    )

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


@contextmanager
def _room(doing: str) -> Iterator[None]:
    """Raise StorageUnavailable for an OSError that means there is no room to write."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise StorageUnavailable(f"{doing}: {exc}") from exc
        raise


class DepositDamaged(Exception):
    """A stored deposit whose file is missing (``actual`` is None) or whose bytes no longer hash
    to the SHA-256 it is stored under (``actual`` is what they hash to now)."""

    def __init__(self, sha256: str, actual: str | None) -> None:
        what = "is missing" if actual is None else f"now hashes to {actual}"
        super().__init__(f"the stored file of deposit {sha256} {what}")
        self.sha256 = sha256
        self.actual = actual


@dataclass
class StagedFile:
    store: DepositStore
    path: Path
    sha256: str
    size: int
    promoted: bool = False

    def promote(self) -> bool:
        """Move the file into the store; True when it was new, False when it was there already."""
        target = self.store.path_for(self.sha256)
        with _room(f"promoting a deposit to {target}"):
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                # Freshen its time: the clean-up spares recent files, and this one is about to
                # be referenced again even if no row refers to it now.
                os.utime(target)
                self.path.unlink(missing_ok=True)
                self.promoted = True
                return False
            os.replace(self.path, target)
            _fsync_dir(target.parent)
        self.promoted = True
        return True

    def discard(self) -> None:
        if not self.promoted:
            with suppress(OSError):  # a read-only disk keeps it; the error said so already
                self.path.unlink(missing_ok=True)


class DepositStore:
    """Deposits under ``root``: ``ab/cd/abcd…`` by SHA-256, temporary files under ``root/tmp``."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored deposit for reading; raises FileNotFoundError when it is not there."""
        return self.path_for(sha256).open("rb")

    def read_bytes(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def open_verified(self, sha256: str) -> BinaryIO:
        """Open a stored deposit for reading once its bytes are checked against ``sha256``:
        the open file is read through and rewound, so what the caller reads is what was
        hashed even if the file is replaced meanwhile. Raises DepositDamaged when the file is
        missing or its bytes changed."""
        try:
            fh = self.path_for(sha256).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise DepositDamaged(sha256, None) from None
        try:
            digest = hashlib.sha256()
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
            if digest.hexdigest() != sha256:
                raise DepositDamaged(sha256, digest.hexdigest())
            fh.seek(0)
        except BaseException:
            fh.close()
            raise
        return fh

    def read_verified(self, sha256: str) -> bytes:
        """The bytes of a stored deposit, checked against ``sha256``; raises DepositDamaged."""
        try:
            data = self.path_for(sha256).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise DepositDamaged(sha256, None) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise DepositDamaged(sha256, actual)
        return data

    def remove(self, sha256: str) -> None:
        self.path_for(sha256).unlink(missing_ok=True)

    @contextmanager
    def stage(self, stream: BinaryIO, *, limit: int) -> Iterator[StagedFile]:
        """Stream ``stream`` into a temporary file; the file is removed on exit unless promoted.

        Raises DepositTooLarge as soon as more than ``limit`` bytes have been read, and
        StorageUnavailable when the disk has no room for it (or is read-only).
        """
        with _room(f"staging an upload in {self.tmp}"):
            self.tmp.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        staged = StagedFile(self, Path(name), "", 0)
        try:
            digest = hashlib.sha256()
            size = 0
            with _room(f"staging an upload in {name}"), os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise DepositTooLarge(limit)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            staged.sha256 = digest.hexdigest()
            staged.size = size
            yield staged
        finally:
            staged.discard()

    def stage_bytes(self, data: bytes, *, limit: int) -> AbstractContextManager[StagedFile]:
        return self.stage(io.BytesIO(data), limit=limit)

    def iter_stored(self) -> Iterator[str]:
        """Every stored deposit's SHA-256 (for audits and clean-up)."""
        for path in self.root.glob("??/??/*"):
            if path.is_file() and len(path.name) == 64:
                yield path.name


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
