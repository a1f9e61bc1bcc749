"""Keeping a registry safe on disk: online backups, restoring one, and clearing unreferenced files.

A backup is a folder: the database (an SQLite copy taken with SQLite's online backup API, or a
``pg_dump`` archive for PostgreSQL), every deposit the copied database refers to (hash-checked
as it is copied), the log's signing key, and ``MANIFEST.json`` with the row counts and the log's
size and root at the moment of the copy. The database is copied first and the deposits after:
a deposit's file is in the store before its row commits and is only ever removed when no row
refers to it, so every deposit the copy names can be found afterwards, however busy the
registry is while the backup runs.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, create_engine, func, inspect, text
from sqlmodel import Session, SQLModel, select

from ..db import current_revision, outside_models
from ..domain.certificate import sha256_of
from ..domain.transparency import key_id, private_pem
from ..models import Deposit, TreeHeadRecord
from ..storage import DepositStore
from . import transparency

MANIFEST = "MANIFEST.json"
SQLITE_FILE = "registry.sqlite3"
PG_FILE = "registry.pgdump"
KEY_FILE = "log-signing-key.pem"
CHECKPOINTS = "checkpoints"
DEPOSITS = "deposits"
FORMAT = 1


class MaintenanceError(RuntimeError):
    """A backup, restore or clean-up that cannot go ahead; the message says why and what to do."""


@dataclass
class Manifest:
    format: int
    created: str
    database: str  # "sqlite" or "postgresql"
    database_file: str
    database_sha256: str
    revision: str | None
    counts: dict[str, int]
    log_size: int
    log_root: str | None
    key_id: str
    deposits: int
    deposit_bytes: int
    missing_deposits: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            return cls(**data)
        except FileNotFoundError:
            raise MaintenanceError(f"{folder} has no {MANIFEST}: not a registry backup.") from None
        except (ValueError, TypeError) as exc:
            raise MaintenanceError(f"{folder / MANIFEST} is not a valid manifest: {exc}") from None


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the registry's schema (the Alembic table included)."""
    names = [t.name for t in SQLModel.metadata.sorted_tables]
    if inspect(engine).has_table("alembic_version"):
        names.append("alembic_version")
    with engine.connect() as conn:
        return {n: conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one() for n in names}


def _log_head(engine: Engine) -> tuple[int, str | None]:
    with Session(engine) as session:
        size = transparency.size(session)
        head = session.get(TreeHeadRecord, size) if size else None
        return size, head.root_hash if head else None


def _file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return sha256_of(fh)


def _copy_checked(source: Path, target: DepositStore, sha256: str) -> int:
    """Store the file at ``source`` in ``target`` as the store stores any deposit (temporary
    file, fsync, rename), refusing it unless its content has the SHA-256 ``sha256``."""
    with source.open("rb") as fh, target.stage(fh, limit=1 << 62) as staged:
        if staged.sha256 != sha256:
            raise MaintenanceError(
                f"deposit {sha256} does not match its hash: the file is damaged."
            )
        staged.promote()
        return staged.size


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise MaintenanceError("an in-memory database cannot be backed up.")
    return Path(database)


def _libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise MaintenanceError(
            f"{name} is not installed. Install PostgreSQL's client tools (the same major "
            f"version as the server), or back up with: pg_dump --format=custom "
            f'--file {PG_FILE} "$REGISTRY_DATABASE_URL" and then copy the deposit folder.'
        )
    return found


def backup(
    engine: Engine,
    store: DepositStore,
    key: Ed25519PrivateKey,
    dest: Path,
    *,
    checkpoints: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Manifest:
    """Take a consistent online backup of the registry into the new folder ``dest``; with the
    folder where the log publishes its ``checkpoints``, those too."""
    say = progress or (lambda _m: None)
    if dest.exists() and any(dest.iterdir()):
        raise MaintenanceError(f"{dest} is not empty; back up into a new folder.")
    dest.mkdir(parents=True, exist_ok=True)
    # The published checkpoints before the database: they then cover no more than the copy.
    _copy_checkpoints(checkpoints, dest / CHECKPOINTS)
    kind = engine.dialect.name
    if kind == "sqlite":
        db_file = dest / SQLITE_FILE
        live = sqlite3.connect(f"file:{_sqlite_path(engine)}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(db_file)
        try:
            live.backup(target)  # one consistent snapshot, taken while the registry runs
        finally:
            target.close()
            live.close()
        copy = create_engine(f"sqlite:///{db_file}")
    elif kind == "postgresql":
        db_file = dest / PG_FILE
        done = subprocess.run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(db_file),
                "--dbname",
                _libpq_url(engine),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise MaintenanceError(f"pg_dump failed: {done.stderr.strip()}")
    else:
        raise MaintenanceError(f"backing up a {kind} database is not supported.")
    say(f"Database copied to {db_file.name}.")
    if kind == "sqlite":
        try:
            table_counts, size, root, revision, shas = _facts(copy)
        finally:
            copy.dispose()
    else:
        with _scratch_restore(db_file, engine) as scratch:
            table_counts, size, root, revision, shas = _facts(scratch)
    missing, total = [], 0
    copied = DepositStore(dest / DEPOSITS)
    for sha in shas:
        source = store.path_for(sha)
        if not source.is_file():
            missing.append(sha)
            continue
        total += _copy_checked(source, copied, sha)
    say(f"{len(shas) - len(missing)} deposit(s) copied ({total} bytes).")
    key_path = dest / KEY_FILE
    key_path.write_bytes(private_pem(key))
    os.chmod(key_path, 0o600)
    manifest = Manifest(
        format=FORMAT,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        database=kind,
        database_file=db_file.name,
        database_sha256=_file_sha256(db_file),
        revision=revision,
        counts=table_counts,
        log_size=size,
        log_root=root,
        key_id=key_id(key.public_key()),
        deposits=len(shas) - len(missing),
        deposit_bytes=total,
        missing_deposits=missing,
    )
    (dest / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    if missing:
        raise MaintenanceError(
            f"{len(missing)} deposit file(s) named by the database are missing from the store "
            f"(first: {missing[0]}); the backup in {dest} lists them in {MANIFEST}."
        )
    return manifest


def _facts(engine: Engine) -> tuple[dict[str, int], int, str | None, str | None, list[str]]:
    """What the manifest records of a database: counts, log size and root, revision, deposits."""
    size, root = _log_head(engine)
    with Session(engine) as session:
        shas = list(session.exec(select(Deposit.sha256)).all())
    return counts(engine), size, root, current_revision(engine), shas


@contextmanager
def _scratch_restore(archive: Path, engine: Engine) -> Iterator[Engine]:
    """The archive restored into a scratch database beside ``engine``'s, dropped on exit, so
    the manifest describes the archive itself."""
    scratch = f"registry_backup_check_{os.getpid()}_{int(time.time() * 1000)}"
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        scratch_engine = create_engine(engine.url.set(database=scratch))
        try:
            _pg_restore(archive, scratch_engine)
            yield scratch_engine
        finally:
            scratch_engine.dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _pg_restore(archive: Path, engine: Engine) -> None:
    done = subprocess.run(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            _libpq_url(engine),
            str(archive),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise MaintenanceError(f"pg_restore failed: {done.stderr.strip()}")


def _is_empty(engine: Engine) -> bool:
    """True when the database holds no registry data (no tables, or migrated but unused)."""
    names = set(inspect(engine).get_table_names())
    if not names:
        return True
    known = {t.name for t in SQLModel.metadata.sorted_tables} | {"alembic_version"}
    if {name for name in names - known if not outside_models(name)}:
        return False
    filled = {name: n for name, n in counts(engine).items() if name in names}
    return all(n == 0 for name, n in filled.items() if name not in {"alembic_version", "log_state"})


def restore(
    source: Path,
    engine: Engine,
    store: DepositStore,
    key_path: Path,
    *,
    checkpoints: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> Manifest:
    """Restore the backup in ``source`` into an empty registry: database, deposits, key, and
    (into ``checkpoints``, unless this instance has published a checkpoint of its own, which
    then stays to show what the restore rolled back) the checkpoints it had published.

    ``key_path`` is where this registry reads its signing key; the backup's key is written
    there when no key file is present or it holds another key, as the log can only go on with
    the key that signed it. Returns the manifest after checking the restored counts against it.
    """
    say = progress or (lambda _m: None)
    manifest = Manifest.read(source)
    if manifest.format != FORMAT:
        raise MaintenanceError(f"backup format {manifest.format} is not supported.")
    db_file = source / manifest.database_file
    if not db_file.is_file() or _file_sha256(db_file) != manifest.database_sha256:
        raise MaintenanceError(f"{db_file} is missing or does not match the manifest's hash.")
    if engine.dialect.name != manifest.database:
        raise MaintenanceError(
            f"the backup is of a {manifest.database} database; this registry uses "
            f"{engine.dialect.name}."
        )
    if not _is_empty(engine):
        raise MaintenanceError(
            "this registry's database already holds data; restore into an empty one."
        )
    backup_key = (source / KEY_FILE).read_bytes()
    copied = DepositStore(source / DEPOSITS)
    for sha in copied.iter_stored():
        if not store.exists(sha):
            _copy_checked(copied.path_for(sha), store, sha)
    say(f"{manifest.deposits} deposit(s) in place.")
    engine.dispose()
    if manifest.database == "sqlite":
        src = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
        dst = sqlite3.connect(_sqlite_path(engine), timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        with engine.begin() as conn:  # an empty, possibly migrated schema: start clean
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            conn.execute(text('DROP TABLE IF EXISTS "alembic_version"'))
        _pg_restore(db_file, engine)
    engine.dispose()
    say("Database restored.")
    restored = counts(engine)
    if restored != manifest.counts:
        raise MaintenanceError(
            f"the restored database's counts differ from the manifest: {restored} "
            f"!= {manifest.counts}"
        )
    if not key_path.exists() or key_path.read_bytes() != backup_key:
        key_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = key_path.with_name(key_path.name + ".restoring")
        tmp.write_bytes(backup_key)
        os.chmod(tmp, 0o600)
        os.replace(tmp, key_path)
        say(f"The log's signing key is now at {key_path}.")
    if checkpoints is not None and not (checkpoints / "checkpoint").exists():
        if _copy_checkpoints(source / CHECKPOINTS, checkpoints):
            say(f"The log's published checkpoints are back in {checkpoints}.")
    return manifest


def _copy_checkpoints(source: Path | None, target: Path) -> bool:
    """Copy the log's published checkpoint and its history from ``source`` to ``target``;
    False when there are none."""
    if source is None:
        return False
    files = [source / name for name in ("checkpoint", "checkpoints")]
    if not all(f.is_file() for f in files):
        return False
    target.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(f, target / f.name)
    return True


@dataclass
class Cleanup:
    removed: list[str]
    kept_recent: int
    temporary_removed: int
    thumbnails_removed: int
    bytes_freed: int


def cleanup(
    *,
    session: Session,
    store: DepositStore,
    cache_dir: Path,
    min_age_seconds: float = 3600,
    dry_run: bool = False,
    now: float | None = None,
) -> Cleanup:
    """Remove deposit files no row refers to, uploads a crashed request left in the store's
    temporary folder, and thumbnails of removed deposits. Only files older than
    ``min_age_seconds`` go: a filing in flight writes its file a moment before its row commits
    (and storing a file that is there already freshens its time)."""
    now = time.time() if now is None else now
    referenced = set(session.exec(select(Deposit.sha256)).all())
    removed, kept, freed = [], 0, 0
    for sha in list(store.iter_stored()):
        if sha in referenced:
            continue
        path = store.path_for(sha)
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if now - stat.st_mtime < min_age_seconds:
            kept += 1
            continue
        # Read again just before removing: a row may have committed since the first read.
        if session.exec(select(func.count()).where(Deposit.sha256 == sha)).one():
            continue
        removed.append(sha)
        freed += stat.st_size
        if not dry_run:
            path.unlink(missing_ok=True)
    session.rollback()
    temporary = 0
    if store.tmp.is_dir():
        for path in store.tmp.iterdir():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if now - stat.st_mtime < min_age_seconds:
                continue
            if path.is_file():
                temporary += 1
                freed += stat.st_size
                if not dry_run:
                    path.unlink(missing_ok=True)
            elif path.is_dir():  # a reverse search's scratch folder, left by a killed worker
                temporary += 1
                freed += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
                if not dry_run:
                    shutil.rmtree(path, ignore_errors=True)
    thumbnails = 0
    gone = set(removed)
    folder = cache_dir / "thumbnails"
    if gone and folder.is_dir():
        for path in folder.iterdir():
            if path.name.split("-", 1)[0] in gone:
                thumbnails += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
    return Cleanup(removed, kept, temporary, thumbnails, freed)
