"""Settings: defaults point at the local servers, every variable overrides, bad values name the variable."""

import base64
import dataclasses

import pytest

from profiles import config
from profiles.config import PROJECT_ROOT, ConfigError, Settings

KEY = base64.b64encode(b"a" * 32).decode()
PRODUCTION = {
    "LIFECYCLE_ENV": "production",
    "NEO4J_URI": "neo4j+s://db.example.org:7687",
    "REDIS_URL": "rediss://cache.example.org:6380/2",
    "SECRET_KEY": "s" * 40,
    "LIFECYCLE_DATA_KEYS": f"k1:{KEY}",
    "LIFECYCLE_INDEX_KEY": KEY,
    "LIFECYCLE_AUDIT_KEYS": f"a1:{KEY}",
}


def test_defaults_use_local_servers_under_var():
    s = Settings.from_env({})
    assert s.env == "development"
    assert s.neo4j_uri == "bolt://127.0.0.1:7687"
    assert s.redis_url == "redis://127.0.0.1:6380/0"
    assert s.local_neo4j and s.local_redis
    assert s.neo4j_user == "neo4j" and s.neo4j_password == "" and s.neo4j_database == "neo4j"
    assert s.tz == "Asia/Shanghai" and str(s.zone) == "Asia/Shanghai"
    assert s.var_dir == PROJECT_ROOT / "var"
    assert (s.web_host, s.web_port, s.web_workers) == ("127.0.0.1", 8000, 2)
    assert (s.local_neo4j_heap, s.local_neo4j_pagecache) == ("512m", "256m")
    # SMS goes to the local sandbox the run command starts, never to Twilio, until TWILIO_* say otherwise
    assert s.local_sms_sandbox and s.twilio_api_base_url == "http://127.0.0.1:8026"
    assert s.twilio_account_sid.startswith("AC") and s.twilio_auth_token and s.twilio_from
    assert s.local_mail_sink and (s.smtp_host, s.smtp_port) == ("127.0.0.1", 8025)
    assert s.public_url == "http://127.0.0.1:8000" and s.quiet_hours == "22:00-08:00" and s.daily_scan_at == "06:00"
    assert s.data_keys == {} and s.index_key == b"" and s.secret_key == ""
    assert s.audit_keys == {} and s.active_audit_key == ""
    assert not s.log_json


def test_every_variable_overrides(tmp_path):
    s = Settings.from_env({
        "LIFECYCLE_ENV": "test",
        "LIFECYCLE_VAR": str(tmp_path),
        "NEO4J_URI": "neo4j://graph.internal:7999",
        "NEO4J_USER": "lifecycle",
        "NEO4J_PASSWORD": "pw",
        "NEO4J_DATABASE": "district",
        "REDIS_URL": "redis://queue.internal:6379/3",
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "tok",
        "TWILIO_FROM": "+8610000",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:8026",
        "SECRET_KEY": "abc",
        "LIFECYCLE_DATA_KEYS": f"k1:{KEY},k2:{base64.b64encode(b'b' * 32).decode()}",
        "LIFECYCLE_INDEX_KEY": KEY,
        "LIFECYCLE_AUDIT_KEYS": f"a1:{KEY},a2:{base64.b64encode(b'c' * 32).decode()}",
        "LIFECYCLE_TZ": "Europe/London",
        "PORT": "9000",
        "WEB_WORKERS": "4",
        "LOCAL_NEO4J_HEAP": "1g",
        "LOCAL_NEO4J_PAGECACHE": "512M",
        "HEALTH_TIMEOUT": "0.5",
        "LOG_JSON": "yes",
    })
    assert s.env == "test" and s.var_dir == tmp_path
    assert s.neo4j_uri == "neo4j://graph.internal:7999" and not s.local_neo4j
    assert (s.neo4j_user, s.neo4j_password, s.neo4j_database) == ("lifecycle", "pw", "district")
    assert s.redis_url == "redis://queue.internal:6379/3" and not s.local_redis
    assert (s.twilio_account_sid, s.twilio_auth_token, s.twilio_from) == ("AC123", "tok", "+8610000")
    assert s.twilio_api_base_url == "http://127.0.0.1:8026"
    assert s.data_keys == {"k1": b"a" * 32, "k2": b"b" * 32}
    assert s.active_data_key == "k2", "the last key listed encrypts new data"
    assert s.index_key == b"a" * 32
    assert s.audit_keys == {"a1": b"a" * 32, "a2": b"c" * 32}
    assert s.active_audit_key == "a2", "the last key listed signs new access records"
    assert s.tz == "Europe/London"
    assert (s.web_port, s.web_workers, s.health_timeout_s) == (9000, 4, 0.5)
    assert (s.local_neo4j_heap, s.local_neo4j_pagecache) == ("1g", "512m")
    assert s.log_json


def test_local_ports_move_the_default_addresses():
    s = Settings.from_env({"LOCAL_NEO4J_PORT": "17687", "LOCAL_REDIS_PORT": "16380"})
    assert s.neo4j_uri == "bolt://127.0.0.1:17687" and s.local_neo4j
    assert s.redis_url == "redis://127.0.0.1:16380/0" and s.local_redis


def test_empty_values_count_as_unset():
    assert Settings.from_env({"NEO4J_URI": "", "PORT": ""}) == Settings.from_env({})


def test_active_key_can_be_chosen():
    b = base64.b64encode(b"b" * 32).decode()
    s = Settings.from_env({"LIFECYCLE_DATA_KEYS": f"k1:{KEY},k2:{b}", "LIFECYCLE_DATA_KEY_ACTIVE": "k1"})
    assert s.active_data_key == "k1"


def test_active_audit_key_can_be_chosen_and_old_ones_stay_for_verifying():
    b = base64.b64encode(b"b" * 32).decode()
    s = Settings.from_env({"LIFECYCLE_AUDIT_KEYS": f"a1:{KEY},a2:{b}", "LIFECYCLE_AUDIT_KEY_ACTIVE": "a1"})
    assert s.active_audit_key == "a1" and s.audit_keys == {"a1": b"a" * 32, "a2": b"b" * 32}


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings.from_env({}).neo4j_uri = "bolt://elsewhere:1"  # type: ignore[misc]


@pytest.mark.parametrize(("environ", "name", "reason"), [
    ({"LIFECYCLE_ENV": "staging"}, "LIFECYCLE_ENV", "must be one of"),
    ({"NEO4J_URI": "http://127.0.0.1:7474"}, "NEO4J_URI", "scheme"),
    ({"NEO4J_URI": "bolt://"}, "NEO4J_URI", "no host"),
    ({"NEO4J_URI": "bolt://host:notaport"}, "NEO4J_URI", "malformed port"),
    ({"REDIS_URL": "memcached://127.0.0.1:11211"}, "REDIS_URL", "scheme"),
    ({"PORT": "0"}, "PORT", "between 1 and 65535"),
    ({"PORT": "70000"}, "PORT", "between 1 and 65535"),
    ({"LOCAL_REDIS_PORT": "six"}, "LOCAL_REDIS_PORT", "whole number"),
    ({"WEB_WORKERS": "0"}, "WEB_WORKERS", "between 1 and 64"),
    ({"HEALTH_TIMEOUT": "soon"}, "HEALTH_TIMEOUT", "number of seconds"),
    ({"LIFECYCLE_TZ": "Mars/Olympus_Mons"}, "LIFECYCLE_TZ", "unknown time zone"),
    ({"LOCAL_NEO4J_HEAP": "lots"}, "LOCAL_NEO4J_HEAP", "size such as"),
    ({"LOG_JSON": "maybe"}, "LOG_JSON", "true or false"),
    ({"LIFECYCLE_DATA_KEYS": "nocolon"}, "LIFECYCLE_DATA_KEYS", "id:base64"),
    ({"LIFECYCLE_DATA_KEYS": "k1:%%%"}, "LIFECYCLE_DATA_KEYS", "base64"),
    ({"LIFECYCLE_DATA_KEYS": "k1:" + base64.b64encode(b"short").decode()}, "LIFECYCLE_DATA_KEYS", "32 bytes"),
    ({"LIFECYCLE_DATA_KEYS": f"k1:{KEY},k1:{KEY}"}, "LIFECYCLE_DATA_KEYS", "appears twice"),
    ({"LIFECYCLE_DATA_KEYS": f"k1:{KEY}", "LIFECYCLE_DATA_KEY_ACTIVE": "k9"}, "LIFECYCLE_DATA_KEY_ACTIVE", "not among"),
    ({"LIFECYCLE_INDEX_KEY": base64.b64encode(b"x" * 16).decode()}, "LIFECYCLE_INDEX_KEY", "32 bytes"),
    ({"LIFECYCLE_AUDIT_KEYS": "nocolon"}, "LIFECYCLE_AUDIT_KEYS", "id:base64"),
    ({"LIFECYCLE_AUDIT_KEYS": "a1:%%%"}, "LIFECYCLE_AUDIT_KEYS", "base64"),
    ({"LIFECYCLE_AUDIT_KEYS": "a1:" + base64.b64encode(b"short").decode()}, "LIFECYCLE_AUDIT_KEYS", "32 bytes"),
    ({"LIFECYCLE_AUDIT_KEYS": f"a1:{KEY},a1:{KEY}"}, "LIFECYCLE_AUDIT_KEYS", "appears twice"),
    ({"LIFECYCLE_AUDIT_KEYS": f"a1:{KEY}", "LIFECYCLE_AUDIT_KEY_ACTIVE": "a9"}, "LIFECYCLE_AUDIT_KEY_ACTIVE",
     "not among"),
])
def test_bad_values_name_the_variable_and_the_reason(environ, name, reason):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(environ)
    assert err.value.name == name
    assert reason in err.value.reason


def test_production_accepts_a_complete_configuration():
    s = Settings.from_env(PRODUCTION)
    assert s.production and not s.local_neo4j and not s.local_redis
    assert s.log_json, "production logs are JSON unless told otherwise"


@pytest.mark.parametrize("missing", [
    "SECRET_KEY", "LIFECYCLE_DATA_KEYS", "LIFECYCLE_INDEX_KEY", "LIFECYCLE_AUDIT_KEYS", "NEO4J_URI", "REDIS_URL"])
def test_production_refuses_to_start_without_each_secret_or_address(missing):
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        Settings.from_env(environ)
    assert err.value.name == missing


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY: production needs a secret key of at least 32"):
        Settings.from_env({**PRODUCTION, "SECRET_KEY": "short"})


def test_real_twilio_settings_talk_to_twilio_not_the_sandbox():
    s = Settings.from_env({"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
                           "TWILIO_FROM": "+8610690001"})
    assert s.twilio_api_base_url == "" and not s.local_sms_sandbox
    assert (s.twilio_account_sid, s.twilio_from) == ("AC" + "1" * 32, "+8610690001")


def test_production_never_defaults_to_the_sandbox():
    s = Settings.from_env({**PRODUCTION, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "x"})
    assert s.twilio_api_base_url == "" and not s.local_sms_sandbox and not s.local_mail_sink


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("QUIET_HOURS", "22:00", "HH:MM-HH:MM"),
    ("QUIET_HOURS", "25:00-08:00", "HH:MM"),
    ("DAILY_SCAN_AT", "6", "HH:MM"),
    ("SCAN_PARTITIONS", "3", "one of 1, 2, 4, 8, 16"),
    ("NOTIFY_DAILY_CAP", "0", "between 1 and 100"),
    ("PUBLIC_URL", "ftp://x", "scheme"),
    ("TWILIO_API_BASE_URL", "localhost:8026", "scheme"),
])
def test_notification_settings_are_checked(name, value, reason):
    with pytest.raises(ConfigError) as exc:
        Settings.from_env({name: value})
    assert exc.value.name == name and reason in exc.value.reason


def test_development_generates_an_audit_key_and_adds_one_to_an_older_secrets_file(tmp_path):
    fresh = config.dev_secrets(tmp_path / "fresh")
    assert list(Settings.from_env(fresh).audit_keys) == ["dev1"]
    assert config.dev_secrets(tmp_path / "fresh") == fresh, "generated once, then read back"

    older = tmp_path / "older"
    older.mkdir()
    lines = [line for line in (tmp_path / "fresh" / "dev-secrets.env").read_text().splitlines()
             if not line.startswith("LIFECYCLE_AUDIT_KEYS=")]
    (older / "dev-secrets.env").write_text("\n".join(lines))  # no final newline: a hand-edited file
    added = config.dev_secrets(older)
    assert {k: v for k, v in added.items() if k != "LIFECYCLE_AUDIT_KEYS"} == {
        k: v for k, v in fresh.items() if k != "LIFECYCLE_AUDIT_KEYS"}
    assert len(Settings.from_env(added).audit_keys["dev1"]) == 32
    assert config.dev_secrets(older) == added, "appended once; later loads read the same key"
    assert (older / "dev-secrets.env").read_text().count("LIFECYCLE_AUDIT_KEYS=") == 1


def test_scale_out_settings_are_read_and_checked():
    s = Settings.from_env({"REDIS_SENTINELS": "127.0.0.1:26379, [::1]:26380", "REDIS_SENTINEL_MASTER": "m1",
                           "SMS_RATE_LIMIT": "250", "SMS_MAX_CONCURRENCY": "100", "WORKERS": "3",
                           "PROXY_HOPS": "1", "DELIVERY_IN_FLIGHT": "128"})
    assert s.redis_sentinels == (("127.0.0.1", 26379), ("::1", 26380))
    assert s.redis_sentinel_master == "m1" and not s.local_redis  # sentinels configured: no local Redis started
    assert (s.sms_rate_limit, s.sms_max_concurrency, s.workers, s.proxy_hops, s.delivery_in_flight) == \
        (250.0, 100, 3, 1, 128)
    defaults = Settings.from_env({})
    assert (defaults.delivery_in_flight, defaults.workers, defaults.proxy_hops, defaults.redis_sentinels) == \
        (64, 1, 0, ())
    assert Settings.from_env({"REDIS_URL": "rediss://r.example:6380/0"}).redis_tls


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("REDIS_SENTINELS", "sentinel-without-port", "host:port"),
    ("REDIS_SENTINELS", "h:99999", "host:port"),
    ("SMS_RATE_LIMIT", "fast", "messages per second"),
    ("WORKERS", "0", "between 1 and 64"),
    ("PROXY_HOPS", "9", "between 0 and 5"),
    ("DELIVERY_IN_FLIGHT", "many", "whole number"),
])
def test_bad_scale_out_settings_name_the_variable(name, value, reason):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert caught.value.name == name and reason in caught.value.reason
