"""Settings: one typed object, read from ``REGISTRY_*`` environment variables, with embedded
defaults. Loading them has no side effects: nothing is created or written (the keys are made
by ``python -m registry init``: see ``registry.keys``).

The embedded default needs no other server: a SQLite file and the deposits live under the
instance folder. Pointing ``REGISTRY_DATABASE_URL`` at PostgreSQL and ``REGISTRY_DEPOSIT_DIR``
at a shared path is all a scaled-out deployment changes.

To add a setting: add a field here (its type, default and, when it needs one, its rule), read
it where it is used (``container.settings.<name>``, or ``ext().settings.<name>`` in a view), and
add a row to the README's settings table. Its environment variable is ``REGISTRY_<NAME>``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .domain.checkpoint import valid_name
from .domain.risk import RoutingPolicy

if TYPE_CHECKING:
    from .sandbox import Budget

PREFIX = "REGISTRY_"
MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent

# A host name or IPv4 address, with a leading dot to take its subdomains too.
_HOST_NAME = re.compile(
    r"\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*", re.I | re.A
)
ANY_HOST = "*"

# Where a developer's machine reaches the embedded default (``registry serve`` listens on
# 127.0.0.1); ``.localhost`` is localhost and its subdomains. Werkzeug compares a trusted name
# without what follows its first colon, so an IPv6 address such as [::1] can never match.
LOCAL_HOSTS = (".localhost", "127.0.0.1")

# The least each number may be: whole numbers, then decimals.
_WHOLE = {
    "max_deposit_bytes": 1,
    "max_text_bytes": 1,
    "max_image_pixels": 1,
    "page_size": 1,
    "trusted_proxies": 0,
    "search_memory_mb": 64,
    "check_memory_mb": 64,
}
_DECIMAL = {
    "check_wait_seconds": 0.0,
    "search_cpu_seconds": 0.1,
    "search_wall_seconds": 0.5,
    "check_cpu_seconds": 0.1,
    "check_wall_seconds": 0.5,
}
_RATE_LIMITS = ("reverse_search_limit", "signin_limit", "signup_limit", "filing_limit")


def env_name(field: str) -> str:
    """The environment variable of the setting ``field``."""
    return PREFIX + field.upper()


class SettingsError(ValueError):
    """Settings that are present but malformed: the message names each variable and why."""


class Settings(BaseSettings):
    """Every setting of the registry. Each field is read from ``REGISTRY_<FIELD>``; a blank
    variable counts as unset. Construct one directly to override (tests do)."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,
        extra="forbid",
        arbitrary_types_allowed=True,
    )

    # ---- where things are ----------------------------------------------------------------
    #: The instance folder: the SQLite file, deposits, caches, keys and checkpoints by default.
    instance_path: Path = ROOT / "instance"
    #: Default: SQLite in the instance folder; e.g. ``postgresql+psycopg://user@host/db``.
    database_url: str = ""
    #: Where deposits are stored (a shared path when scaled out); default instance/deposits.
    deposit_dir: Path | None = None
    #: Thumbnails and other caches; default instance/cache.
    cache_dir: Path | None = None

    # ---- keys (made by ``python -m registry init``; see registry.keys) --------------------
    #: The session signing key; default: the one ``init`` wrote into instance/secret_key.
    secret_key: str | None = None
    #: The transparency log's Ed25519 signing key (PEM); default: instance/log-signing-key.pem,
    #: which ``init`` makes (SQLite only: a shared database needs the one key named).
    log_key_file: Path | None = None

    # ---- what one upload may be ------------------------------------------------------------
    max_deposit_bytes: int = 25 * MIB
    max_text_bytes: int = 4 * MIB
    max_image_pixels: int = 50_000_000
    page_size: int = 20

    # ---- what one upload may cost off the request path (registry.sandbox) -------------------
    # The inspection of a deposit and a reverse search (someone is waiting: seconds), and a
    # filing's checks.
    search_cpu_seconds: float = 5.0
    search_memory_mb: int = 1024
    search_wall_seconds: float = 15.0
    check_cpu_seconds: float = 30.0
    check_memory_mb: int = 1536
    check_wall_seconds: float = 90.0
    #: How long a submission waits for its checks before answering (0: it answers at the
    #: commit, and the receipt follows the checks as they finish).
    check_wait_seconds: float = 0.0

    #: What each risk tier gets, e.g. ``low=fast-track:14,elevated=queue,high=queue``.
    routing_policy: Annotated[RoutingPolicy, NoDecode] = Field(default_factory=RoutingPolicy)

    # ---- the public face --------------------------------------------------------------------
    #: Where the registry is published, e.g. https://registry.example: signed certificates name
    #: their key and record there, and the API's links point there (web.external_url). Never
    #: taken from a request's Host header. Kept without its trailing slash.
    public_url: str | None = None
    #: The host names requests may be sent to (see trusted_hosts); None: see there.
    trusted_hosts: Annotated[tuple[str, ...] | None, NoDecode] = None
    #: The log's name in its C2SP checkpoints (and their signature lines), e.g.
    #: air.example/log; None: made from public_url.
    log_origin: str | None = None
    #: Cookies Secure on every request, for a TLS proxy that does not say the scheme.
    secure_cookies: bool = False
    #: How many reverse proxies in front of the registry to believe about the client's address
    #: and scheme (X-Forwarded-For, X-Forwarded-Proto); 0 believes none.
    trusted_proxies: int = 0

    # ---- queue and limits -------------------------------------------------------------------
    #: Redis for the rate limits shared by every worker and for the job queue of checks (RQ);
    #: None keeps limits in memory and runs checks in a child of the web worker.
    redis_url: str | None = None
    queue: str = "registry-checks"
    reverse_search_limit: str = "20 per minute;200 per day"
    signin_limit: str = "10 per minute;100 per hour"
    signup_limit: str = "10 per hour"
    filing_limit: str = "60 per minute;600 per hour"

    #: A TrueType font for certificate PDFs; by default one found on the system.
    pdf_font: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Values given to the constructor, then the environment; no .env or secrets files."""
        return init_settings, _Environment(settings_cls)

    # ---- rules --------------------------------------------------------------------------------

    @field_validator(*_WHOLE, mode="before")
    @classmethod
    def _whole(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return _number(value, info.field_name, int, _WHOLE[info.field_name], "a whole number")

    @field_validator(*_DECIMAL, mode="before")
    @classmethod
    def _decimal(cls, value: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return _number(value, info.field_name, float, _DECIMAL[info.field_name], "a number")

    @field_validator(*_RATE_LIMITS, mode="before")
    @classmethod
    def _rate_limit(cls, value: Any, info: ValidationInfo) -> Any:
        """A rate limit string such as ``20 per minute;200 per day``, checked now."""
        assert info.field_name is not None
        raw = str(value).strip()
        try:
            parse_many(raw)
        except ValueError as exc:
            raise ValueError(
                f"{env_name(info.field_name)} must be rate limits such as "
                f"'20 per minute;200 per day', not {raw!r} ({exc})"
            ) from None
        return raw

    @field_validator("routing_policy", mode="before")
    @classmethod
    def _routing_policy(cls, value: Any) -> Any:
        if isinstance(value, RoutingPolicy):
            return value
        try:
            return RoutingPolicy.parse(str(value))
        except ValueError as exc:
            raise ValueError(f"REGISTRY_ROUTING_POLICY: {exc}") from None

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: Any) -> str | None:
        """The registry's address without its trailing slash: http(s), a host, maybe a path."""
        raw = str(value or "").strip().rstrip("/")
        if not raw:
            return None
        parts = urlsplit(raw)
        if (
            parts.scheme not in {"http", "https"}
            or not parts.hostname
            or parts.query
            or parts.fragment
            or "@" in parts.netloc
        ):
            raise ValueError(
                "REGISTRY_PUBLIC_URL must be the registry's address such as https://air.example "
                f"(http or https, a host name, no query or user name), not {raw!r}"
            )
        try:
            parts.port  # noqa: B018  (raises for a port that is not a number)
        except ValueError:
            raise ValueError(f"REGISTRY_PUBLIC_URL has a bad port: {raw!r}") from None
        return raw

    @field_validator("trusted_hosts", mode="before")
    @classmethod
    def _trusted_hosts(cls, value: Any) -> tuple[str, ...] | None:
        """Comma-separated host names (``.air.example`` takes every subdomain too), or ``*``
        for any host; None when unset."""
        if value is None:
            return None
        items = value.split(",") if isinstance(value, str) else list(value)
        names = tuple(dict.fromkeys(n.strip().lower() for n in items if n.strip()))
        if not names:
            return None
        if ANY_HOST in names:
            if len(names) > 1:
                raise ValueError("REGISTRY_TRUSTED_HOSTS is either * (any host) or a list of names")
            return names
        for name in names:
            if not _HOST_NAME.fullmatch(name):
                raise ValueError(
                    "REGISTRY_TRUSTED_HOSTS takes host names without scheme, port or path (such "
                    "as air.example,.air.example; international names in their xn-- form; IPv6 "
                    f"addresses cannot be listed), not {name!r}"
                )
        return names

    @field_validator("log_origin", mode="before")
    @classmethod
    def _log_origin(cls, value: Any) -> str | None:
        raw = str(value or "").strip()
        if raw and not valid_name(raw):
            raise ValueError(
                f"REGISTRY_LOG_ORIGIN must be a name without spaces or '+', such as "
                f"air.example/log, not {raw!r}"
            )
        return raw or None

    @field_validator("redis_url", "pdf_font", "secret_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return value or None

    @model_validator(mode="after")
    def _defaults_and_keys(self) -> Settings:
        """The defaults that live in the instance folder, and the log key's rule: a database
        other than the embedded SQLite may be shared by several instances, which must all sign
        with the log's one key, so there the key file must be named."""
        self.instance_path = Path(self.instance_path).resolve()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.instance_path / 'registry.sqlite3'}"
        self.deposit_dir = Path(self.deposit_dir or self.instance_path / "deposits")
        self.cache_dir = Path(self.cache_dir or self.instance_path / "cache")
        if self.log_key_file is None and self.shared_database:
            raise ValueError(
                "REGISTRY_LOG_KEY_FILE must name the transparency log's signing key when "
                "REGISTRY_DATABASE_URL is not SQLite: every instance must sign with the same key "
                "(make one with: openssl genpkey -algorithm ed25519 -out log-signing-key.pem)"
            )
        if self.log_key_file is not None and not Path(self.log_key_file).is_file():
            raise ValueError(f"REGISTRY_LOG_KEY_FILE: no key file at {self.log_key_file}")
        return self

    # ---- what follows from them -----------------------------------------------------------

    @property
    def shared_database(self) -> bool:
        """A database other than the embedded SQLite, which several instances may share."""
        return not self.database_url.startswith("sqlite")

    @property
    def log_key_path(self) -> Path:
        """Where the log's signing key is: the named file, or the instance folder's."""
        return Path(self.log_key_file or self.instance_path / "log-signing-key.pem")

    @property
    def secret_key_path(self) -> Path:
        return self.instance_path / "secret_key"

    @property
    def checkpoint_dir(self) -> Path:
        """Where the log's checkpoints are published."""
        return self.instance_path / "checkpoints"

    @property
    def search_budget(self) -> Budget:
        """Reading one upload (a deposit's inspection) and one reverse search."""
        from .sandbox import Budget

        return Budget(
            cpu_seconds=self.search_cpu_seconds,
            memory_bytes=self.search_memory_mb * MIB,
            wall_seconds=self.search_wall_seconds,
        )

    @property
    def check_budget(self) -> Budget:
        """One filing's checks (fingerprints, matching, provenance, triage)."""
        from .sandbox import Budget

        return Budget(
            cpu_seconds=self.check_cpu_seconds,
            memory_bytes=self.check_memory_mb * MIB,
            wall_seconds=self.check_wall_seconds,
        )

    @property
    def allowed_hosts(self) -> list[str] | None:
        """Flask's ``TRUSTED_HOSTS`` (see ``trusted_hosts``)."""
        return trusted_hosts(self.trusted_hosts, self.public_url)


class _Environment(EnvSettingsSource):
    """The ``REGISTRY_*`` variables; one of only white space counts as unset, as an empty one
    does."""

    def __call__(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in super().__call__().items()
            if not (isinstance(value, str) and not value.strip())
        }


def _number(value: Any, field: str, kind: type, minimum: float, what: str) -> Any:
    """``value`` read as ``kind`` (``int`` or ``float``), at least ``minimum``."""
    name = env_name(field)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be {what}, not {value!r}")
    try:
        number = kind(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(f"{name} must be {what}, not {value!r}") from None
    if kind is int and isinstance(value, float) and number != value:
        raise ValueError(f"{name} must be {what}, not {value!r}")
    if not number >= minimum:  # also refuses NaN
        show = (lambda v: f"{v:g}") if kind is float else str
        raise ValueError(f"{name} must be {show(minimum)} or more, not {show(number)}")
    return number


def trusted_hosts(configured: tuple[str, ...] | None, public_url: str | None) -> list[str] | None:
    """Flask's ``TRUSTED_HOSTS``: the names a request's Host (after ProxyFix, so a forwarded
    host too) must be one of, else it is refused with a 400. ``REGISTRY_TRUSTED_HOSTS`` and
    ``REGISTRY_PUBLIC_URL``'s host when either is set; with neither, only this machine's own
    names; None (any host) only when ``REGISTRY_TRUSTED_HOSTS`` is ``*``."""
    if configured == (ANY_HOST,):
        return None
    public = urlsplit(public_url).hostname if public_url else None
    names = [*(configured or ()), *([public] if public else [])]
    return list(dict.fromkeys(names)) or list(LOCAL_HOSTS)


def load_settings(**values: Any) -> Settings:
    """The settings from the environment, with ``values`` (by field name) over them.

    Raises SettingsError, naming each variable that is present but malformed, so that a
    deployment fails at start rather than on the first request.
    """
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if error["type"] == "value_error" and cause is not None:
            lines.append(str(cause))
            continue
        field = ".".join(str(part) for part in error["loc"])
        name = env_name(field) if field else "settings"
        lines.append(f"{name}: {error['msg']} (not {error.get('input')!r})")
    return "\n".join(lines)
