"""C2PA content credentials, signed here with c2pa-python's own signing and a certificate chain
the test generates."""

import datetime
import io
import json

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from registry.provenance import Verdict, judge, read_image

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Registry Tests"),
        ]
    )


def _usage(**on) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


@pytest.fixture(scope="module")
def signer():
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Root CA"))
        .issuer_name(_name("Test Root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Example Generator Signer"))
        .issuer_name(_name("Test Root CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=private, ta_url=None)
    return c2pa.Signer.from_info(info)


def signed_jpeg(signer, source_type="trainedAlgorithmicMedia") -> bytes:
    manifest = {
        "claim_generator": "registry-tests/1.0",
        "title": "lighthouse.jpg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": IPTC + source_type,
                            "softwareAgent": "Example Generator 2.0",
                        }
                    ]
                },
            }
        ],
    }
    source = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 80, 160)).save(source, "JPEG")
    source.seek(0)
    out = io.BytesIO()
    with c2pa.Builder(json.dumps(manifest)) as builder:
        builder.sign(signer, "image/jpeg", source, out)
    return out.getvalue()


def read(data: bytes):
    return read_image(Image.open(io.BytesIO(data)), data=data, media_type="image/jpeg")


def test_a_signed_manifest_is_read_with_its_actions_and_signer(signer):
    found = read(signed_jpeg(signer))
    assert found.c2pa["present"] and found.c2pa["valid"]
    assert found.c2pa["trusted"] is False  # our test chain is on no trust list
    assert found.c2pa["signer"] == "Example Generator Signer"
    assert found.c2pa["actions"] == [
        {
            "action": "c2pa.created",
            "digital_source_type": "trainedAlgorithmicMedia",
            "software_agent": "Example Generator 2.0",
        }
    ]


def test_credentials_confirm_declared_ai_and_contradict_a_declared_capture(signer):
    data = signed_jpeg(signer)
    declared = judge(
        read(data),
        declared_source_type="trainedAlgorithmicMedia",
        declared_ai_tools=["Example Generator"],
    )
    assert declared.verdict is Verdict.CONFIRMED
    capture = judge(read(data), declared_source_type="digitalCapture", declared_ai_tools=[])
    assert capture.verdict is Verdict.CONFLICTING
    assert any(
        "C2PA action c2pa.created records trainedAlgorithmicMedia by Example Generator" in c
        for c in capture.conflicts
    )


def test_a_tampered_file_has_credentials_that_do_not_validate(signer):
    data = bytearray(signed_jpeg(signer))
    data[-200] ^= 0xFF  # change a byte of the picture after signing
    found = read(bytes(data))
    assert found.c2pa["valid"] is False
    assert "assertion.dataHash.mismatch" in found.c2pa["problems"]
    j = judge(found, declared_source_type="trainedAlgorithmicMedia", declared_ai_tools=["x"])
    assert j.verdict is not Verdict.CONFIRMED


def test_no_manifest_means_no_credentials_and_no_complaint():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG")
    found = read(out.getvalue())
    assert found.c2pa is None and found.unreadable == []
