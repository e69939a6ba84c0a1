"""Settings: the one place configuration is read from the environment, validated once, and frozen.

`Settings.from_env(mapping)` is pure (it is handed a mapping, it does not go looking), so tests build settings from
plain dicts. `load()` is the single call site that passes `os.environ`. With nothing set, every address points at the
local servers the run command starts under `var/`.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import os
import re
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
DEFAULT_SANDBOX_PORT = 8026  # the local Twilio-compatible SMS sandbox
SANDBOX_SID, SANDBOX_TOKEN = "AC" + "0" * 32, "sandbox-token"  # only when nothing else is configured (tests)
DEFAULT_SMTP_PORT = 8025  # the local mail sink (development) — never a real relay unless SMTP_HOST says so


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
    # Redis behind Sentinel: the sentinels' addresses and the master's name; REDIS_URL then only gives the database
    # number, and the password and TLS settings below apply to the master, its replicas and (password) the sentinels
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "lifecycle"
    redis_password: str = ""
    redis_sentinel_password: str = ""
    redis_tls: bool = False
    redis_tls_ca_file: str = ""
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
    # True when SMS goes to the local sandbox the run command starts (no TWILIO_* configured outside production)
    local_sms_sandbox: bool = True
    sandbox_port: int = DEFAULT_SANDBOX_PORT
    smtp_host: str = "127.0.0.1"
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "lifecycle@localhost"
    local_mail_sink: bool = True
    public_url: str = "http://127.0.0.1:8000"  # how citizens and Twilio reach us: links in notices, webhook signatures
    sms_sender: str = "禅城区政务服务"  # the signature 【...】 at the start of every Chinese SMS
    quiet_hours: str = "22:00-08:00"  # default for persons who did not choose their own
    daily_cap: int = 3  # push messages (SMS + e-mail) per recipient per local day
    scan_partitions: int = 8
    delivery_batch: int = 500  # notices per delivery job: a job's fixed reads and writes are paid per batch
    delivery_threads: int = 8
    # one worker keeps this many SMS sends waiting on the provider at once (latency-bound, not core-bound)
    delivery_in_flight: int = 64
    # the provider's limits, shared by every worker through Redis: messages per second (0: none) and requests open
    # at once (0: none)
    sms_rate_limit: float = 0.0
    sms_max_concurrency: int = 0
    workers: int = 1  # RQ workers the run command starts (the scheduler runs once, whatever this is)
    retry_base_s: float = 30.0  # first retry after this, doubling; `retry_max` attempts in all
    retry_max: int = 6
    stuck_after_s: float = 600.0  # a notice pending or sending longer than this is re-queued by the sweeper
    daily_scan_at: str = "06:00"  # local time, LIFECYCLE_TZ
    secret_key: str = ""
    data_keys: Mapping[str, bytes] = field(default_factory=dict)
    active_data_key: str = ""
    index_key: bytes = b""
    audit_keys: Mapping[str, bytes] = field(default_factory=dict)  # access-log MAC keys, rotated like the data keys
    active_audit_key: str = ""
    tz: str = "Asia/Shanghai"
    catalog_dir: Path = PROJECT_ROOT / "profiles" / "catalog"
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    web_workers: int = 2
    proxy_hops: int = 0  # reverse proxies in front of gunicorn whose X-Forwarded-* headers are trusted (ProxyFix)
    health_timeout_s: float = 1.5
    log_json: bool = False
    otp_ttl_s: int = 300  # a login code by SMS is good for this long, once
    # flask-limiter strings: code requests and login attempts per client address, and per account (ID number,
    # credit code or officer name) whatever the address
    login_limit_address: str = "5 per minute;40 per hour"
    login_limit_account: str = "3 per 10 minutes;10 per day"
    session_idle_s: int = 1800  # a signed-in page session ends after this long without a request

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
        sentinels = _sentinels(e.get("REDIS_SENTINELS", ""))
        data_keys = _data_keys(e.get("LIFECYCLE_DATA_KEYS", ""))
        active = e.get("LIFECYCLE_DATA_KEY_ACTIVE", next(reversed(data_keys), ""))
        if active and active not in data_keys:
            raise ConfigError("LIFECYCLE_DATA_KEY_ACTIVE", f"key id {active!r} is not among LIFECYCLE_DATA_KEYS")
        index_key = _b64(e["LIFECYCLE_INDEX_KEY"], "LIFECYCLE_INDEX_KEY", 32) if "LIFECYCLE_INDEX_KEY" in e else b""
        audit_keys = _audit_keys(e.get("LIFECYCLE_AUDIT_KEYS", ""))
        audit_active = e.get("LIFECYCLE_AUDIT_KEY_ACTIVE", next(reversed(audit_keys), ""))
        if audit_active and audit_active not in audit_keys:
            raise ConfigError("LIFECYCLE_AUDIT_KEY_ACTIVE",
                              f"key id {audit_active!r} is not among LIFECYCLE_AUDIT_KEYS")
        sandbox_port = _port(e, "LOCAL_SMS_SANDBOX_PORT", DEFAULT_SANDBOX_PORT)
        real_twilio = "TWILIO_ACCOUNT_SID" in e and "TWILIO_API_BASE_URL" not in e
        local_sandbox = not real_twilio and env != "production"
        twilio_base = e.get("TWILIO_API_BASE_URL", f"http://127.0.0.1:{sandbox_port}" if local_sandbox else "")
        if twilio_base:
            _url(twilio_base, "TWILIO_API_BASE_URL", ("http", "https"))
        public_url = e.get("PUBLIC_URL", f"http://127.0.0.1:{_port(e, 'PORT', 8000)}").rstrip("/")
        _url(public_url, "PUBLIC_URL", ("http", "https"))
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
            local_redis="REDIS_URL" not in e and not sentinels,
            redis_sentinels=sentinels,
            redis_sentinel_master=e.get("REDIS_SENTINEL_MASTER", "lifecycle"),
            redis_password=e.get("REDIS_PASSWORD", ""),
            redis_sentinel_password=e.get("REDIS_SENTINEL_PASSWORD", ""),
            redis_tls=_bool(e, "REDIS_TLS", redis_url.startswith("rediss://")),
            redis_tls_ca_file=e.get("REDIS_TLS_CA_FILE", ""),
            local_neo4j_heap=_size(e, "LOCAL_NEO4J_HEAP", "512m"),
            local_neo4j_pagecache=_size(e, "LOCAL_NEO4J_PAGECACHE", "256m"),
            neo4j_dist_dir=Path(e.get("LOCAL_NEO4J_DIST", PROJECT_ROOT / "var" / "neo4j-dist")).resolve(),
            twilio_account_sid=e.get("TWILIO_ACCOUNT_SID", e.get("TWILIO_SANDBOX_ACCOUNT_SID", SANDBOX_SID)
                                     if local_sandbox else ""),
            twilio_auth_token=e.get("TWILIO_AUTH_TOKEN", e.get("TWILIO_SANDBOX_AUTH_TOKEN", SANDBOX_TOKEN)
                                    if local_sandbox else ""),
            twilio_from=e.get("TWILIO_FROM", "+8610690000" if local_sandbox else ""),
            twilio_api_base_url=twilio_base,
            local_sms_sandbox=local_sandbox and "TWILIO_API_BASE_URL" not in e,
            sandbox_port=sandbox_port,
            smtp_host=e.get("SMTP_HOST", "127.0.0.1"),
            smtp_port=_port(e, "SMTP_PORT", DEFAULT_SMTP_PORT),
            smtp_user=e.get("SMTP_USER", ""),
            smtp_password=e.get("SMTP_PASSWORD", ""),
            smtp_starttls=_bool(e, "SMTP_STARTTLS", False),
            mail_from=e.get("MAIL_FROM", "lifecycle@localhost"),
            local_mail_sink="SMTP_HOST" not in e and env != "production",
            public_url=public_url,
            sms_sender=e.get("SMS_SENDER", "禅城区政务服务"),
            quiet_hours=_quiet_hours(e, "QUIET_HOURS", "22:00-08:00"),
            daily_cap=_int(e, "NOTIFY_DAILY_CAP", 3, lo=1, hi=100),
            scan_partitions=_choice_int(e, "SCAN_PARTITIONS", (1, 2, 4, 8, 16), 8),
            delivery_batch=_int(e, "DELIVERY_BATCH", 500, lo=1, hi=5000),
            delivery_threads=_int(e, "DELIVERY_THREADS", 8, lo=1, hi=64),
            delivery_in_flight=_int(e, "DELIVERY_IN_FLIGHT", 64, lo=1, hi=1024),
            sms_rate_limit=_float(e, "SMS_RATE_LIMIT", 0.0, lo=0.0, hi=100000.0,
                                  what="a number of messages per second"),
            sms_max_concurrency=_int(e, "SMS_MAX_CONCURRENCY", 0, lo=0, hi=10000),
            workers=_int(e, "WORKERS", 1, lo=1, hi=64),
            retry_base_s=_float(e, "RETRY_BASE", 30.0, lo=0.01, hi=3600.0),
            retry_max=_int(e, "RETRY_MAX", 6, lo=1, hi=20),
            stuck_after_s=_float(e, "STUCK_AFTER", 600.0, lo=0.0, hi=86400.0),
            daily_scan_at=_clock(e, "DAILY_SCAN_AT", "06:00"),
            secret_key=e.get("SECRET_KEY", ""),
            data_keys=data_keys,
            active_data_key=active,
            index_key=index_key,
            audit_keys=audit_keys,
            active_audit_key=audit_active,
            tz=tz,
            catalog_dir=Path(e.get("LIFECYCLE_CATALOG", PROJECT_ROOT / "profiles" / "catalog")).resolve(),
            web_host=e.get("WEB_HOST", "127.0.0.1"),
            web_port=_port(e, "PORT", 8000),
            web_workers=_int(e, "WEB_WORKERS", 2, lo=1, hi=64),
            proxy_hops=_int(e, "PROXY_HOPS", 0, lo=0, hi=5),
            health_timeout_s=_float(e, "HEALTH_TIMEOUT", 1.5, lo=0.1, hi=30.0),
            log_json=_bool(e, "LOG_JSON", env == "production"),
            otp_ttl_s=_int(e, "LOGIN_CODE_TTL", 300, lo=30, hi=3600),
            login_limit_address=_limits(e, "LOGIN_LIMIT_ADDRESS", "5 per minute;40 per hour"),
            login_limit_account=_limits(e, "LOGIN_LIMIT_ACCOUNT", "3 per 10 minutes;10 per day"),
            session_idle_s=_int(e, "SESSION_IDLE", 1800, lo=60, hi=86400),
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
            audit_key_line(),
        ]
        lines += sandbox_credentials()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the stack won the race; read theirs
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(lines) + "\n")
    pairs = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    if "TWILIO_SANDBOX_ACCOUNT_SID" not in pairs:  # a var/ from before the SMS sandbox existed
        extra = sandbox_credentials()
        with path.open("a") as f:
            f.write("\n".join(extra) + "\n")
        pairs.update(line.split("=", 1) for line in extra)
    if "LIFECYCLE_AUDIT_KEYS" not in pairs:  # a var/ from before the access log was keyed
        pairs = _append_once(path, "LIFECYCLE_AUDIT_KEYS", audit_key_line())
    return pairs


def audit_key_line() -> str:
    return f"LIFECYCLE_AUDIT_KEYS=dev1:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _append_once(path: Path, name: str, line: str) -> dict[str, str]:
    """Append `line` unless `name` is there by now, under a lock: two processes of the stack starting together must
    not each add a key of their own and then sign with different ones."""
    with path.open("a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        text = f.read()
        pairs = dict(x.split("=", 1) for x in text.splitlines() if "=" in x)
        if name not in pairs:
            f.write(("" if text.endswith("\n") or not text else "\n") + line + "\n")
            pairs.update([line.split("=", 1)])
    return pairs


def sandbox_credentials() -> list[str]:
    """Credentials for the local SMS sandbox: Twilio-shaped, random, useless anywhere else."""
    return [f"TWILIO_SANDBOX_ACCOUNT_SID=AC{secrets.token_hex(16)}",
            f"TWILIO_SANDBOX_AUTH_TOKEN={secrets.token_hex(16)}"]


def _require_production_secrets(s: Settings) -> None:
    if len(s.secret_key) < 32:
        raise ConfigError("SECRET_KEY", "production needs a secret key of at least 32 characters")
    if not s.data_keys:
        raise ConfigError("LIFECYCLE_DATA_KEYS", "production needs at least one data-encryption key")
    if not s.index_key:
        raise ConfigError("LIFECYCLE_INDEX_KEY", "production needs a blind-index key")
    if not s.audit_keys:
        raise ConfigError("LIFECYCLE_AUDIT_KEYS", "production needs a key to sign the access log")
    if s.local_neo4j or s.local_redis:
        missing = "NEO4J_URI" if s.local_neo4j else "REDIS_URL"
        raise ConfigError(missing, "production does not start local servers; set the address of yours"
                          + (" (or REDIS_SENTINELS)" if s.local_redis and not s.local_neo4j else ""))


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


def _float(e: Mapping[str, str], name: str, default: float, *, lo: float, hi: float,
           what: str = "a number of seconds") -> float:
    raw = e.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be {what}, not {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(name, f"must be between {lo} and {hi}, not {value}")
    return value


def _choice_int(e: Mapping[str, str], name: str, allowed: tuple[int, ...], default: int) -> int:
    value = _int(e, name, default, lo=min(allowed), hi=max(allowed))
    if value not in allowed:
        raise ConfigError(name, f"must be one of {', '.join(map(str, allowed))}, not {value}")
    return value


_LIMIT = re.compile(r"\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?", re.IGNORECASE)


def _limits(e: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit in flask-limiter's notation, one or more separated by ';' ("5 per minute;40 per hour")."""
    value = e.get(name, default)
    if not all(_LIMIT.fullmatch(part.strip()) for part in value.split(";")):
        raise ConfigError(name, f"{value!r} is not a rate limit like '5 per minute;40 per hour'")
    return value


def _clock(e: Mapping[str, str], name: str, default: str) -> str:
    value = e.get(name, default)
    hours, sep, minutes = value.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
            and len(minutes) == 2):
        raise ConfigError(name, f"must be a time of day HH:MM, not {value!r}")
    return f"{int(hours):02d}:{minutes}"


def _quiet_hours(e: Mapping[str, str], name: str, default: str) -> str:
    value = e.get(name, default)
    start, sep, end = value.partition("-")
    if not sep:
        raise ConfigError(name, f"must be two times HH:MM-HH:MM, not {value!r}")
    return f"{_clock({name: start}, name, start)}-{_clock({name: end}, name, end)}"


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


def _sentinels(value: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port`: the sentinels that know where the Redis master is now."""
    found = []
    for item in filter(None, (p.strip() for p in value.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError("REDIS_SENTINELS", f"each sentinel must be written host:port, not {item!r}")
        found.append((host.strip("[]"), int(port)))
    return tuple(found)


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


def _audit_keys(value: str) -> dict[str, bytes]:
    """Access-log MAC keys, written like the data keys. Each record names the key that signed it and is checked with
    that key: a retired key stays listed for as long as its records are to verify (they are never re-signed)."""
    try:
        return _data_keys(value)
    except ConfigError as exc:
        raise ConfigError("LIFECYCLE_AUDIT_KEYS", exc.reason) from None
