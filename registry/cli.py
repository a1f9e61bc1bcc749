"""Commands under ``flask --app wsgi registry ...``: migrate, accounts, demo data, serve, the
originality check of pending filings, and its evaluation."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlmodel import func, select

from . import db as database
from .container import Container, of
from .domain.vocabulary import Role
from .models import Registration
from .services import accounts

if TYPE_CHECKING:
    from sqlmodel import Session

    from .models import User


def ext() -> Container:
    """The running app's container (engine, store, matcher, log, settings...)."""
    return of(current_app)


def _session() -> Session:
    return ext().session()


def _done(verb: str, numbers: list[str]) -> None:
    click.echo(f"{verb} {len(numbers)} filing(s){': ' + ', '.join(numbers) if numbers else ''}.")


registry = AppGroup("registry", help="Run and manage the registry.")


@registry.command("migrate", help="Apply the database migrations (safe to run again).")
@click.option("--revision", default="head", show_default=True)
def migrate(revision: str) -> None:
    database.upgrade(ext().engine, revision)
    click.echo(f"Database at revision {database.current_revision(ext().engine)}.")


def _password(given: str | None, prompt: str) -> tuple[str, bool]:
    """The password given, or asked for at a terminal, or else generated (and then True)."""
    if given is not None:
        return given, False
    if sys.stdin is not None and sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=True), False
    return secrets.token_urlsafe(12), True


@registry.command("create-user", help="Create an account; staff accounts are made only here.")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="The name shown on screen.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.CREATOR.value,
    show_default=True,
)
@click.option(
    "--password",
    help="Leave out to be asked for it (or to generate one when no terminal is attached).",
)
def create_user(email: str, display_name: str, role: str, password: str | None) -> None:
    password, generated = _password(password, "Password")
    with _session() as session:
        try:
            user = accounts.create_user(
                session=session,
                email=email,
                display_name=display_name,
                password=password,
                role=Role(role),
            )
        except accounts.AccountError as exc:
            raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role} account {user.email}.")
    if generated:
        click.echo(f"Its password is: {password}")


def _account(session, email: str) -> User:
    try:
        user = accounts.get_user_by_email(session=session, email=email)
    except accounts.AccountError as exc:
        raise click.ClickException(exc.message) from exc
    if user is None:
        raise click.ClickException(f"There is no account with the email address {email}.")
    return user


@registry.command(
    "deactivate-user",
    help="Deactivate an account: it can no longer sign in, and its sessions, remember-me "
    "cookies and API tokens stop working at once.",
)
@click.option("--email", required=True)
def deactivate_user(email: str) -> None:
    with _session() as session:
        user = _account(session, email)
        if accounts.deactivate(session=session, user=user):
            click.echo(f"Deactivated {user.email}; every session of the account has ended.")
        else:
            click.echo(f"{user.email} was deactivated already; nothing changed.")


@registry.command(
    "set-password",
    help="Give an account a new password (staff use); every session of the account ends.",
)
@click.option("--email", required=True)
@click.option(
    "--password",
    help="Leave out to be asked for it (or to generate one when no terminal is attached).",
)
def set_password(email: str, password: str | None) -> None:
    with _session() as session:
        user = _account(session, email)
        password, generated = _password(password, "New password")
        try:
            accounts.set_password(session=session, user=user, password=password)
        except accounts.AccountError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"Set a new password for {user.email}; every session of the account has ended.")
    if generated:
        click.echo(f"Its password is: {password}")


@registry.command("demo", help="Fill an empty registry with a few sample registrations.")
def demo() -> None:
    from .demo import seed

    with _session() as session:
        count = session.exec(select(func.count()).select_from(Registration)).one()
        if count:
            click.echo(
                f"The registry holds {count} filings already; "
                "demo data is added only to an empty one."
            )
            return
        for line in seed(
            session=session,
            store=ext().store,
            limits=ext().limits,
            matcher=ext().matcher,
            policy=ext().policy,
        ):
            click.echo(line)


@registry.command(
    "serve", help="Migrate, optionally add demo data, and run the development server."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo/--no-demo", "with_demo", default=False, help="Add sample filings if empty.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, with_demo: bool) -> None:
    from werkzeug.serving import run_simple

    ctx.invoke(migrate)
    if with_demo:
        ctx.invoke(demo)
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug's LocalProxy is typed as the app
    click.echo(
        f"\nThe registry is at http://{host}:{port}/\n"
        "Creators sign up on the site. To sign in as an examiner, create one:\n"
        "  flask --app wsgi registry create-user --role examiner --email you@example.org "
        "--name 'Your Name'\n"
    )
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@registry.command(
    "check",
    help="Run the originality check on every submitted filing that has no report yet, and "
    "triage every checked filing that has no risk tier yet.",
)
def check() -> None:
    from .services import checking

    with _session() as session:
        done = checking.run_pending(
            session=session,
            store=ext().store,
            matcher=ext().matcher,
            policy=ext().policy,
        )
    for what, numbers in done.items():
        _done(what, numbers)


@registry.command(
    "worker",
    help="Run an RQ worker that checks submitted filings (needs REGISTRY_REDIS_URL; run as many "
    "as you like, on any machine that shares the database and the deposits).",
)
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    from .worker import run_worker

    if not ext().settings.redis_url:
        raise click.UsageError(
            "REGISTRY_REDIS_URL is not set: without a job queue, filings are checked as they "
            "are submitted and no worker is needed."
        )
    run_worker(ext(), burst=burst)


@registry.command(
    "close-overdue",
    help="Close for no response every filing whose creator missed a request's deadline "
    "(run it daily, e.g. from cron).",
)
def close_overdue() -> None:
    from .services import correspondence

    with _session() as session:
        closed = correspondence.close_overdue(session=session)
    _done("Closed", closed)


@registry.command(
    "fast-track",
    help="Register every low-risk filing whose fast-track waiting period is over and that no "
    "examiner took (run it daily).",
)
def fast_track() -> None:
    from .services import decisions

    with _session() as session:
        done = decisions.fast_track_due(session=session)
    _done("Registered", done)


@registry.command(
    "verify-log",
    help="Recompute the transparency log from the database and check it against every signed "
    "tree head, every registration's status and the checkpoints kept elsewhere; exit 1 and name "
    "each entry changed, removed or out of order, each missing head and each status the log "
    "does not account for.",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The log's public key (PEM); by default the key of this registry's signing key.",
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of one or more signed checkpoints kept outside the database (as /log/checkpoint "
    "serves them, or the history in instance/checkpoints/checkpoints): the log must contain each. "
    "Repeat for several. The checkpoint this instance last published is always checked.",
)
@click.option(
    "--deposits",
    is_flag=True,
    help="Also read every deposit file and check it against its SHA-256.",
)
def verify_log(key_file: Path | None, checkpoints: tuple[Path, ...], deposits: bool) -> None:
    from .domain.transparency import load_public_key
    from .services import transparency

    log = ext().log
    public_key = load_public_key(key_file.read_bytes()) if key_file else log.public_key
    kept: list[tuple[str, bytes]] = []
    published = log.published_checkpoint()
    if published is not None and published.resolve() not in {p.resolve() for p in checkpoints}:
        kept.append((f"The checkpoint this instance published ({published})", _read(published)))
    kept.extend((str(path), _read(path)) for path in checkpoints)
    with _session() as session:
        audit = transparency.verify(
            session,
            public_key,
            kept,
            published_missing=log.checkpoint_dir is not None and published is None,
        )
        store_audit = transparency.verify_deposits(session, ext().store) if deposits else None
    latest = audit.latest
    click.echo(
        f"{audit.entries} entries, {audit.heads} signed tree heads"
        + (f"; latest: size {latest.tree_size}, root {latest.root_hash.hex()}" if latest else "")
    )
    for note in audit.notes:
        click.echo(f"note: {note}")
    for line in audit.checked:
        click.echo(f"checkpoint: {line}")
    problems = list(audit.problems)
    if store_audit is not None:
        click.echo(
            f"{store_audit.files} deposit files checked against their SHA-256"
            + (": all present and unchanged." if store_audit.ok else ".")
        )
        problems.extend(store_audit.problems)
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if problems:
        click.echo(f"The log does NOT verify: {len(problems)} problem(s).", err=True)
        sys.exit(1)
    click.echo("The log verifies.")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"Cannot read {path}: {exc.strerror or exc}") from None


@registry.command(
    "backup",
    help="Take a consistent online backup into the new folder DEST: the database (SQLite's "
    "backup API, or pg_dump for PostgreSQL), every deposit it names (hash-checked), the log's "
    "signing key and a manifest of counts. The registry may keep running meanwhile.",
)
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup(dest: Path) -> None:
    from .services import maintenance

    try:
        manifest = maintenance.backup(
            ext().engine,
            ext().store,
            ext().log.key,
            dest,
            checkpoints=ext().log.checkpoint_dir,
            progress=click.echo,
        )
    except maintenance.MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backed up {manifest.counts.get('registration', 0)} filing(s), {manifest.deposits} "
        f"deposit(s) and a log of {manifest.log_size} entries to {dest}. It holds the log's "
        "private signing key: keep it as safe as the live one."
    )


@registry.command(
    "restore",
    help="Restore a backup made by `registry backup` into this registry, whose database must be "
    "empty: database, deposits and the log's signing key. Stop the server first.",
)
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore(source: Path) -> None:
    from .services import maintenance

    try:
        manifest = maintenance.restore(
            source,
            ext().engine,
            ext().store,
            ext().settings.log_key_path,
            checkpoints=ext().log.checkpoint_dir,
            progress=click.echo,
        )
    except maintenance.MaintenanceError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Restored {manifest.counts.get('registration', 0)} filing(s) and a log of "
        f"{manifest.log_size} entries (taken {manifest.created}). Check it with: "
        "flask --app wsgi registry verify-log"
    )


@registry.command(
    "cleanup",
    help="Remove deposit files no filing refers to (left by a crash between storing a file and "
    "committing its row), stale temporary uploads and their thumbnails.",
)
@click.option(
    "--min-age",
    default=3600,
    show_default=True,
    type=click.IntRange(min=0),
    help="Only remove files at least this many seconds old (filings in flight are younger).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def cleanup(min_age: int, dry_run: bool) -> None:
    from .services import maintenance

    with _session() as session:
        done = maintenance.cleanup(
            session=session,
            store=ext().store,
            cache_dir=ext().cache_dir,
            min_age_seconds=min_age,
            dry_run=dry_run,
        )
    verb = "Would remove" if dry_run else "Removed"
    for sha in done.removed:
        click.echo(f"{verb} unreferenced deposit {sha}")
    click.echo(
        f"{verb} {len(done.removed)} unreferenced deposit(s), {done.temporary_removed} stale "
        f"temporary upload(s) and {done.thumbnails_removed} thumbnail(s): {done.bytes_freed} "
        f"bytes. Kept {done.kept_recent} unreferenced file(s) younger than {min_age} s."
    )


@registry.command(
    "evaluate",
    help="Measure the originality check on a labelled set (registered/, queries/, truth.csv). "
    "Runs in a scratch registry; the registry's own database is not touched. A file that cannot "
    "be registered or checked is listed as an error (and in the JSON's errors), and the run goes "
    "on.",
)
@click.argument("dataset", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--mistakes", is_flag=True, help="Also list every query with a miss or a false flag.")
def evaluate(dataset: Path, as_json: bool, mistakes: bool) -> None:
    try:
        from .tools import evaluation
    except ImportError:  # an installed wheel: the tools ship only with a checkout
        raise click.UsageError(
            "registry evaluate needs the development tools (registry/tools), which are part of "
            "a checkout of the registry's source, not of the installed package."
        ) from None

    for needed in ("registered", "queries", "truth.csv"):
        if not (dataset / needed).exists():
            raise click.UsageError(f"{dataset} has no {needed}: not an evaluation set.")
    quiet = as_json or not sys.stderr.isatty()
    result = evaluation.evaluate(
        dataset, progress=None if quiet else (lambda m: click.echo(m, err=True))
    )
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    click.echo(evaluation.format_table(result))
    if mistakes:
        for query, family, expected, flagged in result.mistakes:
            click.echo(f"{query} ({family}): expected {expected or '-'}, flagged {flagged or '-'}")


def init_app(app: Flask) -> None:
    app.cli.add_command(registry)
