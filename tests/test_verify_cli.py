"""``python -m registry.verify``: offline verification of a certificate (and the deposit) with
the log's public key; exit 0 verified, 1 a check failed, 2 unreadable input; no Flask, no SQL."""

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from registry.domain import merkle
from registry.domain.certificate import LoggedEntry, issue
from registry.domain.transparency import TreeHead, encode_leaf, key_id, public_pem

KEY = Ed25519PrivateKey.generate()
DEPOSIT = "港口的黎明\nA poem.\n".encode()
NUMBER = "AIR-2026-000007"


def certificate() -> dict:
    sha = hashlib.sha256(DEPOSIT).hexdigest()
    leaves = [
        encode_leaf(number=NUMBER, event=event, deposit_sha256=sha, at=datetime(2026, 5, day))
        for day, event in ((1, "submitted"), (9, "registered"))
    ]
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    head = TreeHead(2, 1_778_000_000_000, merkle.root(hashes)).signed_with(KEY)
    return issue(
        key=KEY,
        head=head,
        entries=[
            LoggedEntry(i, leaf.decode(), merkle.inclusion_proof(i, hashes))
            for i, leaf in enumerate(leaves)
        ],
        number=NUMBER,
        title="港口的黎明",
        claimant_name="Lin Mei",
        work_category="literary",
        work_category_label="Literary work (文字作品)",
        status="registered",
        limitation="",
        deposit_sha256=sha,
        media_type="text/plain; charset=utf-8",
        issued_at=datetime(2026, 5, 10, tzinfo=UTC),
        registry_url="https://air.example",
    )


@pytest.fixture
def files(tmp_path):
    cert = tmp_path / "certificate.json"
    cert.write_text(json.dumps(certificate(), ensure_ascii=False, indent=2), encoding="utf-8")
    deposit = tmp_path / "poem.txt"
    deposit.write_bytes(DEPOSIT)
    key = tmp_path / "key.pem"
    key.write_text(public_pem(KEY.public_key()))
    return cert, deposit, key


def verify(*args):
    return subprocess.run(
        [sys.executable, "-m", "registry.verify", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_a_good_certificate_and_deposit_verify_with_the_key(files):
    cert, deposit, key = files
    run = verify(cert, deposit, "--key", key)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Certificate of registration {NUMBER}: 港口的黎明" in run.stdout
    assert "✓ Deposit: The file you gave has SHA-256" in run.stdout
    assert "✗" not in run.stdout and "WARNING" not in run.stdout
    assert run.stdout.rstrip().splitlines()[-4] == "VERIFIED."
    assert "The title, the claimant" in run.stdout  # says what the log does not prove


def test_without_a_key_it_never_reports_success(files):
    cert, deposit, _ = files
    run = verify(cert, deposit)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "VERIFIED" not in run.stdout.replace("NOT VERIFIED", "")
    assert f"carries the log key {key_id(KEY.public_key())}" in run.stdout
    assert "https://air.example/log/key.pem" in run.stdout  # where to get the key
    assert "--key" in run.stdout
    assert "NOT VERIFIED: no key to check the certificate against." in run.stdout


def test_a_forgers_certificate_signed_with_its_own_key_is_not_verified(files, tmp_path):
    forger = Ed25519PrivateKey.generate()
    global KEY
    real, KEY = KEY, forger
    try:
        forged = certificate()  # every signature made by the forger's own key
    finally:
        KEY = real
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged), encoding="utf-8")
    _, deposit, key = files
    run = verify(path, deposit)
    assert run.returncode != 0, run.stdout
    assert "VERIFIED" not in run.stdout.replace("NOT VERIFIED", "")
    assert key_id(forger.public_key()) in run.stdout
    assert verify(path, deposit, "--key", key).returncode == 1  # the registry's key: caught


def test_a_modified_certificate_fails(files):
    cert, deposit, key = files
    body = json.loads(cert.read_text(encoding="utf-8"))
    body["registration"]["title"] = "Another title"
    cert.write_text(json.dumps(body), encoding="utf-8")
    run = verify(cert, deposit, "--key", key)
    assert run.returncode == 1
    assert "✗ Certificate signature" in run.stdout and "NOT VERIFIED: 1 check failed." in run.stdout


def test_a_modified_deposit_fails(files):
    cert, deposit, key = files
    deposit.write_bytes(DEPOSIT + b"\n")
    run = verify(cert, deposit, "--key", key)
    assert run.returncode == 1
    assert "✗ Deposit" in run.stdout


def test_another_key_fails(files, tmp_path):
    cert, deposit, _ = files
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    assert verify(cert, deposit, "--key", other).returncode == 1


@pytest.mark.parametrize("what", ["certificate", "deposit", "key", "json", "keyfile"])
def test_unreadable_input_exits_2_with_a_message(files, tmp_path, what):
    cert, deposit, key = files
    missing = tmp_path / "missing"
    args = {
        "certificate": (missing, deposit, "--key", key),
        "deposit": (cert, missing, "--key", key),
        "key": (cert, deposit, "--key", missing),
        "json": (deposit, "--key", key),
        "keyfile": (cert, "--key", deposit),
    }[what]
    run = verify(*args)
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and run.stdout == ""


def test_the_verifier_loads_neither_flask_nor_sql():
    code = (
        "import sys, registry.verify; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'werkzeug', 'sqlalchemy', 'sqlmodel', 'psycopg', 'registry.services'} "
        "or m.startswith(('registry.services', 'registry.web', 'registry.models'))))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
