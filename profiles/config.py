"""Settings: the one place configuration is read from the environment, validated once, and frozen.

`Settings.from_env(mapping)` is pure (it is handed a mapping, it does not go looking), so tests build settings from
plain dicts. `load()` is the single call site that passes `os.environ`. With nothing set, every address points at the
local servers the run command starts under `var/`.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "test", "production")

DEFAULT_NEO4J_PORT = 7687
DEFAULT_REDIS_PORT = 6380  # not 6379: a distribution's own redis-server may already be listening there


class ConfigError(ValueError):
    """A setting is missing or malformed; `name` is the environment variable to fix."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    var_dir: Path = PROJECT_ROOT / "var"
    neo4j_uri: str = f"bolt://127.0.0.1:{DEFAULT_NEO4J_PORT}"
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    redis_url: str = f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"
    # True when the address above is ours to start (nothing configured): the run command then launches the server.
    local_neo4j: bool = True
    local_redis: bool = True
    local_neo4j_heap: str = "512m"
    local_neo4j_pagecache: str = "256m"
    neo4j_dist_dir: Path = PROJECT_ROOT / "var" / "neo4j-dist"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from: str = ""
    twilio_api_base_url: str = ""
    secret_key: str = ""
    data_keys: Mapping[str, bytes] = field(default_factory=dict)
    active_data_key: str = ""
    index_key: bytes = b""
    tz: str = "Asia/Shanghai"
    catalog_dir: Path = PROJECT_ROOT / "profiles" / "catalog"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    web_workers: int = 2
    health_timeout_s: float = 1.5
    log_json: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from an environment mapping; raise `ConfigError` naming the first bad variable."""
        e = {k: v for k, v in environ.items() if v != ""}
        env = _choice(e, "LIFECYCLE_ENV", ENVIRONMENTS, "development")
        var_dir = Path(e.get("LIFECYCLE_VAR", PROJECT_ROOT / "var")).resolve()
        neo4j_port = _port(e, "LOCAL_NEO4J_PORT", DEFAULT_NEO4J_PORT)
        redis_port = _port(e, "LOCAL_REDIS_PORT", DEFAULT_REDIS_PORT)
        neo4j_uri = e.get("NEO4J_URI", f"bolt://127.0.0.1:{neo4j_port}")
        redis_url = e.get("REDIS_URL", f"redis://127.0.0.1:{redis_port}/0")
        _url(neo4j_uri, "NEO4J_URI", ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"))
        _url(redis_url, "REDIS_URL", ("redis", "rediss", "unix"))
        data_keys = _data_keys(e.get("LIFECYCLE_DATA_KEYS", ""))
        active = e.get("LIFECYCLE_DATA_KEY_ACTIVE", next(reversed(data_keys), ""))
        if active and active not in data_keys:
            raise ConfigError("LIFECYCLE_DATA_KEY_ACTIVE", f"key id {active!r} is not among LIFECYCLE_DATA_KEYS")
        index_key = _b64(e["LIFECYCLE_INDEX_KEY"], "LIFECYCLE_INDEX_KEY", 32) if "LIFECYCLE_INDEX_KEY" in e else b""
        tz = e.get("LIFECYCLE_TZ", "Asia/Shanghai")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError("LIFECYCLE_TZ", f"unknown time zone {tz!r}") from exc

        settings = cls(
            env=env,
            var_dir=var_dir,
            neo4j_uri=neo4j_uri,
            neo4j_user=e.get("NEO4J_USER", "neo4j"),
            neo4j_password=e.get("NEO4J_PASSWORD", ""),
            neo4j_database=e.get("NEO4J_DATABASE", "neo4j"),
            redis_url=redis_url,
            local_neo4j="NEO4J_URI" not in e,
            local_redis="REDIS_URL" not in e,
            local_neo4j_heap=_size(e, "LOCAL_NEO4J_HEAP", "512m"),
            local_neo4j_pagecache=_size(e, "LOCAL_NEO4J_PAGECACHE", "256m"),
            neo4j_dist_dir=Path(e.get("LOCAL_NEO4J_DIST", PROJECT_ROOT / "var" / "neo4j-dist")).resolve(),
            twilio_account_sid=e.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=e.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from=e.get("TWILIO_FROM", ""),
            twilio_api_base_url=e.get("TWILIO_API_BASE_URL", ""),
            secret_key=e.get("SECRET_KEY", ""),
            data_keys=data_keys,
            active_data_key=active,
            index_key=index_key,
            tz=tz,
            catalog_dir=Path(e.get("LIFECYCLE_CATALOG", PROJECT_ROOT / "profiles" / "catalog")).resolve(),
            web_host=e.get("WEB_HOST", "127.0.0.1"),
            web_port=_port(e, "PORT", 8000),
            web_workers=_int(e, "WEB_WORKERS", 2, lo=1, hi=64),
            health_timeout_s=_float(e, "HEALTH_TIMEOUT", 1.5, lo=0.1, hi=30.0),
            log_json=_bool(e, "LOG_JSON", env == "production"),
        )
        if settings.production:
            _require_production_secrets(settings)
        return settings


def load() -> Settings:
    """Read the process environment. Call once per process, at the edge (app factory, worker, run command).

    In development, keys not given in the environment come from `var/dev-secrets.env`, generated on first use, so the
    run command, the worker and `flask --app wsgi ...` all read the same data. Production never looks there.
    """
    environ = dict(os.environ)
    if environ.get("LIFECYCLE_ENV", "development") == "development":
        var_dir = Path(environ.get("LIFECYCLE_VAR") or PROJECT_ROOT / "var")
        for key, value in dev_secrets(var_dir).items():
            if not environ.get(key):
                environ[key] = value
    return Settings.from_env(environ)


def dev_secrets(var_dir: Path) -> dict[str, str]:
    """Development keys, generated once into var/dev-secrets.env (mode 0600)."""
    path = var_dir / "dev-secrets.env"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"SECRET_KEY={secrets.token_urlsafe(48)}",
            f"LIFECYCLE_DATA_KEYS=dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
            f"LIFECYCLE_INDEX_KEY={base64.b64encode(secrets.token_bytes(32)).decode()}",
        ]
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the stack won the race; read theirs
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(lines) + "\n")
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return dict(pairs)


def _require_production_secrets(s: Settings) -> None:
    if len(s.secret_key) < 32:
        raise ConfigError("SECRET_KEY", "production needs a secret key of at least 32 characters")
    if not s.data_keys:
        raise ConfigError("LIFECYCLE_DATA_KEYS", "production needs at least one data-encryption key")
    if not s.index_key:
        raise ConfigError("LIFECYCLE_INDEX_KEY", "production needs a blind-index key")
    if s.local_neo4j or s.local_redis:
        missing = "NEO4J_URI" if s.local_neo4j else "REDIS_URL"
        raise ConfigError(missing, "production does not start local servers; set the address of yours")


def _choice(e: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = e.get(name, default)
    if value not in allowed:
        raise ConfigError(name, f"must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _int(e: Mapping[str, str], name: str, default: int, *, lo: int, hi: int) -> int:
    raw = e.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, not {value}")
    return value


def _port(e: Mapping[str, str], name: str, default: int) -> int:
    return _int(e, name, default, lo=1, hi=65535)


def _float(e: Mapping[str, str], name: str, default: float, *, lo: float, hi: float) -> float:
    raw = e.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number of seconds, not {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, not {value}")
    return value


def _bool(e: Mapping[str, str], name: str, default: bool) -> bool:
    raw = e.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"must be true or false, not {raw!r}")


def _size(e: Mapping[str, str], name: str, default: str) -> str:
    value = e.get(name, default).strip().lower()
    digits = value[:-1] if value[-1:] in ("k", "m", "g") else value
    if not digits.isdigit() or int(digits) == 0:
        raise ConfigError(name, f"must be a size such as 512m or 2g, not {value!r}")
    return value


def _url(value: str, name: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ConfigError(name, f"scheme must be one of {', '.join(schemes)}, not {parts.scheme or 'none'!r}")
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(name, "has no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(name, "has a malformed port") from None


def _b64(value: str, name: str, length: int) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(name, "must be base64") from None
    if len(raw) != length:
        raise ConfigError(name, f"must decode to {length} bytes, not {len(raw)}")
    return raw


def _data_keys(value: str) -> dict[str, bytes]:
    """`id:base64,id:base64`; the key id travels with every ciphertext, so ids are short and never reused."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (p.strip() for p in value.split(","))):
        key_id, sep, material = item.partition(":")
        if not sep or not key_id.isalnum():
            raise ConfigError("LIFECYCLE_DATA_KEYS", "each key must be written id:base64 with an alphanumeric id")
        if key_id in keys:
            raise ConfigError("LIFECYCLE_DATA_KEYS", f"key id {key_id!r} appears twice")
        keys[key_id] = _b64(material, "LIFECYCLE_DATA_KEYS", 32)
    return keys
