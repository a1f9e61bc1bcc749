"""Registration certificates: the printable page, the signed JSON and the PDF of a registered
work, and the page where anyone checks a certificate (and the file) they were given. Nothing
uploaded for checking is kept."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.file import FileField

from ..domain.certificate import (
    AS_OF,
    FORMAT,
    PROVED_BY_LOG,
    STATED_BY_REGISTRY,
    CertificateError,
    load_certificate,
    logged_entries,
    sha256_of,
)
from ..services import certificates, lookup
from . import certificate_pdf, db_session, ext, settings

bp = Blueprint("certificates", __name__)

MAX_CERTIFICATE_BYTES = 1024 * 1024


class VerifyForm(FlaskForm):
    certificate = FileField("The certificate (.json)")
    deposit = FileField("The registered file (optional)")


def _issue(number: str) -> dict:
    """The certificate of registration ``number``; aborts with a redirect to the canonical
    number, a 404, or a 404 page that says why there is no certificate."""
    reg = lookup.by_number(session=db_session(), number=number)
    if reg is None:
        abort(404)
    if reg.number != number:
        endpoint = request.endpoint or "certificates.page"
        abort(redirect(url_for(endpoint, number=reg.number), code=301))
    try:
        return certificates.certificate(
            db_session(), ext().log, reg, registry_url=settings().public_url
        )
    except certificates.CertificateUnavailable as exc:
        page = render_template("certificates/unavailable.html", reg=reg, reason=str(exc))
        abort(Response(page, status=404))


def _json(cert: dict) -> bytes:
    return (json.dumps(cert, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/registrations/<number>/certificate")
def page(number: str) -> ResponseReturnValue:
    cert = _issue(number)
    return render_template(
        "certificates/certificate.html",
        cert=cert,
        reg=cert["registration"],
        entries=logged_entries(cert),
        proved_by_log=PROVED_BY_LOG,
        stated_by_registry=STATED_BY_REGISTRY,
        as_of=AS_OF,
    )


@bp.route("/registrations/<number>/certificate.json")
def download_json(number: str) -> ResponseReturnValue:
    cert = _issue(number)
    return _download(_json(cert), "application/json", f"{number}-certificate.json")


@bp.route("/registrations/<number>/certificate.pdf")
def download_pdf(number: str) -> ResponseReturnValue:
    cert = _issue(number)
    font = settings().pdf_font
    pdf = certificate_pdf.render(cert, _json(cert), font=font)
    return _download(pdf, "application/pdf", f"{number}-certificate.pdf")


def _read_certificate(form: VerifyForm) -> dict:
    """The uploaded certificate; raises CertificateError saying what is wrong with the upload."""
    upload = form.certificate.data
    if not upload or not getattr(upload, "filename", ""):
        raise CertificateError("Choose the certificate file (.json) to verify.")
    data = upload.stream.read(MAX_CERTIFICATE_BYTES + 1)
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise CertificateError(
            "The certificate file is larger than 1 MB: it is not a certificate from this registry."
        )
    if not data.strip():
        raise CertificateError("The certificate file is empty.")
    try:
        return load_certificate(data)
    except CertificateError as exc:
        raise CertificateError(f"This file cannot be read as a certificate: {exc}.") from None


def _hash_upload(form: VerifyForm) -> str | None:
    upload = form.deposit.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return sha256_of(upload.stream)


@bp.route("/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    form = VerifyForm()
    result = cert = None
    problem = ""
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                cert = _read_certificate(form)
            except CertificateError as exc:
                problem = str(exc)
            else:
                result = certificates.check(
                    db_session(), ext().log, cert, deposit_sha256=_hash_upload(form)
                )
        else:
            problem = "The form could not be read. Reload the page and try again."
    page = render_template(
        "certificates/verify.html",
        form=form,
        result=result,
        cert=cert,
        problem=problem,
        format=FORMAT,
        key_id=ext().log.key_id,
    )
    return page, 422 if problem else 200
