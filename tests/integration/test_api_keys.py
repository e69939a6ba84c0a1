"""API keys from the operator's CLI: listed without secrets, revoked at once (401 on the very next request), and
stamped with their last use at most once a minute, read back from the graph."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

CATALOG = "/api/v1/catalog/services"  # any role may read it: the cheapest authenticated request


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def create(app, role: str, name: str) -> str:
    result = invoke(app, "apikey", "create", "--role", role, "--name", name)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def kid_of(key: str) -> str:
    return key.split("_")[1]


def last_used(app, kid: str) -> datetime | None:
    s = app.extensions["lifecycle"]
    value = s.driver.execute_query("MATCH (k:ApiKey {kid: $kid}) RETURN k.last_used_at AS at", kid=kid,
                                   database_=s.settings.neo4j_database)[0][0]["at"]
    return value.to_native() if value is not None else None


def test_the_list_shows_every_key_with_name_role_and_times_and_never_a_secret(app):
    first, second = create(app, "system", "civil-affairs-bureau"), create(app, "officer", "window-scripts")
    result = invoke(app, "apikey", "list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    today = datetime.now(app.extensions["lifecycle"].settings.zone).date().isoformat()
    for key, name, role in ((first, "civil-affairs-bureau", "system"), (second, "window-scripts", "officer")):
        [line] = [line for line in lines if line.startswith(kid_of(key))]
        assert name in line and f" {role} " in line and f"created {today}" in line
        assert "last used never" in line and line.endswith("active")
        secret = key.split("_", 2)[2]
        assert secret not in result.output and hashlib.sha256(secret.encode()).hexdigest() not in result.output


def test_a_key_works_until_the_cli_revokes_it_then_gets_401_at_once(app, client):
    key = create(app, "system", "civil-affairs-bureau")
    assert client.get(CATALOG, headers=bearer(key)).status_code == 200
    result = invoke(app, "apikey", "revoke", kid_of(key))
    assert result.exit_code == 0, result.output
    assert f"revoked {kid_of(key)}" in result.stdout
    answer = client.get(CATALOG, headers=bearer(key))
    assert answer.status_code == 401 and answer.get_json()["code"] == 401

    listed = invoke(app, "apikey", "list").stdout
    assert "revoked " + datetime.now(app.extensions["lifecycle"].settings.zone).date().isoformat() in listed
    again = invoke(app, "apikey", "revoke", kid_of(key))
    assert again.exit_code == 0 and "already revoked" in again.stdout
    assert client.get(CATALOG, headers=bearer(key)).status_code == 401


def test_revoking_leaves_the_other_keys_working(app, client):
    ended, kept = create(app, "system", "old-system"), create(app, "system", "new-system")
    assert invoke(app, "apikey", "revoke", kid_of(ended)).exit_code == 0
    assert client.get(CATALOG, headers=bearer(kept)).status_code == 200


def test_revoking_an_unknown_id_fails_and_names_it(app):
    create(app, "system", "civil-affairs-bureau")
    result = invoke(app, "apikey", "revoke", "0123456789abcdef")
    assert result.exit_code != 0
    assert "no API key with id '0123456789abcdef'" in result.output
    assert invoke(app, "apikey", "list").stdout.strip().endswith("active")


def test_last_used_is_stamped_by_a_request_and_not_rewritten_within_the_minute(app, client):
    key = create(app, "officer", "window-scripts")
    kid = kid_of(key)
    assert last_used(app, kid) is None
    before = datetime.now(UTC)
    assert client.get(CATALOG, headers=bearer(key)).status_code == 200
    stamped = last_used(app, kid)
    assert stamped is not None and before - timedelta(seconds=1) <= stamped <= datetime.now(UTC)
    for _ in range(3):
        assert client.get(CATALOG, headers=bearer(key)).status_code == 200
    assert last_used(app, kid) == stamped
    assert "last used never" not in invoke(app, "apikey", "list").stdout


def test_last_used_is_renewed_once_the_stamp_is_older_than_a_minute(app, client):
    key = create(app, "officer", "window-scripts")
    kid = kid_of(key)
    s = app.extensions["lifecycle"]
    old = datetime.now(UTC) - timedelta(seconds=61)
    s.driver.execute_query("MATCH (k:ApiKey {kid: $kid}) SET k.last_used_at = $at", kid=kid, at=old,
                           database_=s.settings.neo4j_database)
    assert client.get(CATALOG, headers=bearer(key)).status_code == 200
    assert last_used(app, kid) > old + timedelta(seconds=60)


def test_a_wrong_secret_for_a_known_id_is_401_and_stamps_nothing(app, client):
    key = create(app, "officer", "window-scripts")
    forged = f"lk_{kid_of(key)}_{'x' * 43}"
    assert client.get(CATALOG, headers=bearer(forged)).status_code == 401
    assert last_used(app, kid_of(key)) is None


def test_names_citizens_read_in_their_access_log_cannot_be_disguised(app):
    """A key's name and an officer's name and department are the actor of every read they make: no bidi override or
    control character may make them read as someone else on the citizen's page."""
    refused = invoke(app, "apikey", "create", "--role", "system", "--name", "civil\u202eaffairs")
    assert refused.exit_code != 0 and "U+202E" in refused.output
    for option, value in (("--name", "李\u202e窗口"), ("--department", "禅城区\x00中心")):
        args = {"--name": "李窗口", "--department": "禅城区行政服务中心", option: value}
        result = app.test_cli_runner().invoke(args=["officer", "create", "--username", "window6", "--role", "officer",
                                                    *[x for pair in args.items() for x in pair],
                                                    "--password", "a long enough password"])
        assert result.exit_code != 0 and option.strip("-") in result.output, result.output
    s = app.extensions["lifecycle"]
    assert s.driver.execute_query("MATCH (n) WHERE n:ApiKey OR n:Officer RETURN count(n) AS c",
                                  database_=s.settings.neo4j_database)[0][0]["c"] == 0
