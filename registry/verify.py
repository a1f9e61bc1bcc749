"""Verify an AIR registration certificate offline:

    python -m registry.verify CERTIFICATE.json [DEPOSIT_FILE] [--key PUBLIC_KEY.pem]

It reads only the certificate, the deposited file and the log's public key: no database, no
network, no web framework (it imports nothing from ``registry`` but ``registry.domain``). Exit
status 0 when every check holds, 1 when any fails, 2 when an input cannot be read.

Without ``--key`` nothing is verified: anyone can sign a certificate with a key of their own, so
the key a certificate carries proves nothing by itself. The checks are still run with it and
shown, with the key id the certificate names and where to get the registry's key; the exit
status is 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from registry.domain.certificate import (
    AS_OF,
    FORMAT,
    PROVED_BY_LOG,
    STATED_BY_REGISTRY,
    CertificateError,
    load_certificate,
    sha256_of,
    verified,
    verify_certificate,
)
from registry.domain.transparency import key_id, load_public_key

OK, FAILED, UNREADABLE = 0, 1, 2
MAX_CERTIFICATE_BYTES = 16 * 1024 * 1024


class Unreadable(Exception):
    """An input that cannot be read; ``str`` says which and why."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m registry.verify",
        description=f"Verify an AIR registration certificate ({FORMAT}) offline.",
        epilog="Exit status: 0 verified, 1 a check failed or no --key was given, 2 an input "
        "could not be read.",
    )
    parser.add_argument("certificate", type=Path, help="the certificate (JSON)")
    parser.add_argument(
        "deposit", type=Path, nargs="?", help="the registered file, to check it is the deposit"
    )
    parser.add_argument(
        "--key",
        type=Path,
        help="the log's public key (PEM, as the registry publishes at /log/key.pem). Without "
        "it the certificate is not verified: its checks are shown with the key it carries, "
        "whose id you must compare with the registry's.",
    )
    return parser


def _read(path: Path, what: str, limit: int | None = None) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read() if limit is None else fh.read(limit + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read the {what} {path}: {exc.strerror or exc}") from None
    if limit is not None and len(data) > limit:
        raise Unreadable(f"the {what} {path} is larger than {limit // (1024 * 1024)} MB")
    return data


def _sha256_of(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return sha256_of(fh)
    except OSError as exc:
        raise Unreadable(f"cannot read the deposit file {path}: {exc.strerror or exc}") from None


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    try:
        try:
            cert = load_certificate(
                _read(args.certificate, "certificate", limit=MAX_CERTIFICATE_BYTES)
            )
        except CertificateError as exc:
            raise Unreadable(f"{args.certificate}: {exc}") from None
        if args.key is not None:
            try:
                public_key = load_public_key(_read(args.key, "key file"))
            except ValueError as exc:
                raise Unreadable(f"{args.key}: {exc}") from None
        else:
            log = cert.get("log")
            raw = log.get("public_key") if isinstance(log, dict) else None
            if not isinstance(raw, str):
                raise Unreadable(
                    f"{args.certificate}: the certificate carries no public key; give one with "
                    "--key"
                )
            try:
                public_key = load_public_key(raw)
            except ValueError as exc:
                raise Unreadable(f"{args.certificate}: {exc}") from None
        deposit_sha256 = _sha256_of(args.deposit) if args.deposit is not None else None
    except Unreadable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return UNREADABLE

    checks = verify_certificate(cert, public_key, deposit_sha256=deposit_sha256)
    registration = cert.get("registration")
    reg: dict = registration if isinstance(registration, dict) else {}
    if reg.get("number"):
        print(f"Certificate of registration {reg['number']}: {reg.get('title', '')}", file=out)
    kid = key_id(public_key)
    published = _published_key(cert)
    if args.key is None:
        print(
            f"WARNING: no --key given. The certificate carries the log key {kid}, and its "
            "checks below use that key; but anyone can sign a certificate with a key of their "
            "own, so they prove nothing until you know this key is the registry's.",
            file=out,
        )
    else:
        print(f"Log key: {kid} (from {args.key})", file=out)
    print(file=out)
    for c in checks:
        print(f"{'✓' if c.ok else '✗'} {c.name}: {c.message}", file=out)
    if deposit_sha256 is None:
        print("  (No deposit file given: the file itself was not checked.)", file=out)
    print(file=out)
    failed = sum(not c.ok for c in checks)
    if failed or not verified(checks):
        print(f"NOT VERIFIED: {failed} check{'s' if failed != 1 else ''} failed.", file=out)
        return FAILED
    if args.key is None:
        print("NOT VERIFIED: no key to check the certificate against.", file=out)
        where = (
            f"the certificate names {published}: make sure that is the registry's own address"
            if published
            else "its /log/key.pem page"
        )
        print(
            f"To verify it, get the log's public key from the registry itself ({where}), "
            f"check that its key id is {kid}, and run again with it: "
            f"python -m registry.verify {args.certificate}"
            + (f" {args.deposit}" if args.deposit is not None else "")
            + " --key key.pem",
            file=out,
        )
        return FAILED
    print("VERIFIED.", file=out)
    for note in (PROVED_BY_LOG, STATED_BY_REGISTRY, AS_OF):
        print(note, file=out)
    return OK


def _published_key(cert: dict) -> str | None:
    """Where the certificate says the registry publishes its key (a claim of the certificate,
    so only a hint of where to look)."""
    log = cert.get("log")
    where = log.get("published_key") if isinstance(log, dict) else None
    return where if isinstance(where, str) else None


def main() -> None:
    # Ticks and crosses must not crash a terminal that cannot show them.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    sys.exit(run())


if __name__ == "__main__":
    main()
