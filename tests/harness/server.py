"""Run the registry under gunicorn on loopback, and file works through its API (for the
concurrency, crash and load tests)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

API_DECLARATION = {
    "title": "Lighthouse in Fog",
    "alternative_titles": ["灯塔与雾"],
    "work_category": "visual_art",
    "completion_date": "2026-02-01",
    "publication_status": "published",
    "publication_date": "2026-03-01",
    "publication_nation": "Portugal",
    "authors": [
        {
            "name": "Ana Costa",
            "signing": "real_name",
            "citizenship": "Portugal",
            "contribution": "Painting and composition",
        }
    ],
    "claimant_name": "Ana Costa",
    "claimant_kind": "natural",
    "claimant_address": "Secret Street 7, Lisbon",
    "rights_obtained": "original",
    "rights_held": "all",
    "digital_source_type": "compositeWithTrainedAlgorithmicMedia",
    "ai_tools": [{"name": "Midjourney", "version": "6", "usage": "Background fog"}],
    "ai_material": "The fog in the background.",
    "contributions": [
        {"category": "modification", "description": "Painted the lighthouse over the output."}
    ],
    "new_material": "Painting",
    "sources": [{"description": "Own sketch", "origin": "Sketchbook 2025", "licence": "Own work"}],
    "training_use": "not_allowed",
    "attested": True,
}
# The same work declared as a text written without AI.
API_LITERARY = {
    **API_DECLARATION,
    "work_category": "literary",
    "digital_source_type": "digitalCreation",
    "ai_tools": [],
    "ai_material": "",
    "contributions": [{"category": "expressive_input", "description": "Wrote it."}],
    "new_material": "Text",
}


def app_env(app, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The settings that make another process (a server, a worker) run ``app``'s registry:
    its instance folder, database and keys, plus ``extra``."""
    return {
        "REGISTRY_INSTANCE_PATH": app.instance_path,
        "REGISTRY_DATABASE_URL": app.extensions["registry"].settings.database_url,
        "REGISTRY_LOG_KEY_FILE": str(app.extensions["registry"].settings.log_key_path),
        "REGISTRY_SECRET_KEY": app.config["SECRET_KEY"],
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def filing_body(client: int, i: int, png: bytes | None = None) -> dict:
    """A complete filing: the given image, or else a short text of this client's own."""
    title = f"Work {i} of client {client}"
    if png is None:
        decl = {**API_DECLARATION, "title": title, "work_category": "literary"}
        deposit = {"text": f"{title}.\nA verse about the harbour, line {i}, client {client}.\n"}
    else:
        decl = {**API_DECLARATION, "title": title}
        deposit = {"filename": "work.png", "content_base64": base64.b64encode(png).decode()}
    return {"declaration": decl, "deposit": deposit}


@dataclass
class Gunicorn:
    env: dict
    workers: int = 4
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Gunicorn:
        command = [
            sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
            "--bind", f"127.0.0.1:{self.port}", "--timeout", "120",
            "--graceful-timeout", "5", "wsgi:app",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {self.proc.stderr.read().decode()[-3000:]}")
            try:
                status, _ = request(self.port, "GET", "/api/v1/log/key")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("gunicorn did not answer in time")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once (they share its process group)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def request(port: int, method: str, path: str, body: dict | None = None, token: str = ""):
    """One HTTP request on a fresh connection; (status, parsed JSON or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None
    finally:
        conn.close()
