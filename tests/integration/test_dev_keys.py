"""Development keys: generated once under var/ on first start, private to the owner, the same on every later load."""

import stat

from profiles import config


def test_first_load_generates_private_keys_and_later_loads_reuse_them(tmp_path, monkeypatch):
    for name in ("LIFECYCLE_ENV", "SECRET_KEY", "LIFECYCLE_DATA_KEYS", "LIFECYCLE_INDEX_KEY", "NEO4J_URI",
                 "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIFECYCLE_VAR", str(tmp_path))

    first = config.load()
    path = tmp_path / "dev-secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32 and list(first.data_keys) == ["dev1"] and len(first.index_key) == 32

    second = config.load()
    assert (second.secret_key, second.data_keys, second.index_key) == (
        first.secret_key, first.data_keys, first.index_key)


def test_environment_keys_win_and_production_never_reads_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LIFECYCLE_VAR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-" + "x" * 20)
    assert config.load().secret_key.startswith("from-the-environment-")

    monkeypatch.setenv("LIFECYCLE_ENV", "production")
    monkeypatch.delenv("LIFECYCLE_DATA_KEYS", raising=False)
    (tmp_path / "dev-secrets.env").unlink()
    try:
        config.load()
    except config.ConfigError as exc:
        assert exc.name in ("LIFECYCLE_DATA_KEYS", "NEO4J_URI")
    else:
        raise AssertionError("production started without keys")
    assert not (tmp_path / "dev-secrets.env").exists()
