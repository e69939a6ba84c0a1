"""The administrators' API-key page of the officer console with real Neo4j and Redis: the list without secrets,
creating a key (its secret shown once, never cached, working against the API), revoking one (401 from then on),
other roles refused and recorded, and no form post without its CSRF token."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_officer, post, sign_in_officer
from tests.integration.test_pages_officer import _Audit

ADMIN = "/officer/admin"  # the admin page, with the keys, the officer accounts and the refusals
KEYS = "/officer/admin/keys"
CATALOG = "/api/v1/catalog/services"
SHOWN_KEY = re.compile(r"lk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


def officer(app, svc, username: str, role: str):
    make_officer(svc, username=username, role=role)
    client = app.test_client()
    assert sign_in_officer(client, username).status_code == 303
    return client


@pytest.fixture
def admin(app, svc):
    return officer(app, svc, "admin1", "admin")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def created_key(admin, name: str = "民政局婚姻登记系统", role: str = "system") -> str:
    answer = post(admin, KEYS, {"name": name, "role": role})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "no-store" in answer.headers["Cache-Control"]
    [key] = set(SHOWN_KEY.findall(answer.get_data(as_text=True)))
    return key


def test_an_admin_lists_the_keys_without_their_secrets(app, svc, admin):
    cli_key = svc.api_keys.create("civil-affairs-bureau", "system")
    moved = admin.get(KEYS)  # the keys' old address leads to the admin page
    assert moved.status_code == 303 and moved.headers["Location"] == ADMIN + "#h-keys"
    page = admin.get(ADMIN)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    kid, secret = cli_key.split("_", 2)[1:]
    assert kid in text and "civil-affairs-bureau" in text
    assert secret not in text and hashlib.sha256(secret.encode()).hexdigest() not in text
    assert "API密钥" in text and "从未使用" in text  # Chinese by default, never used yet
    assert f'href="/officer/admin/keys/{kid}/revoke"' in text
    assert 'href="/officer/admin"' in admin.get("/officer").get_data(as_text=True)  # in the navigation


def test_an_admin_creates_a_key_shown_once_that_works_against_the_api(app, svc, admin):
    key = created_key(admin)
    client = app.test_client()
    assert client.get(CATALOG, headers=bearer(key)).status_code == 200
    listed = admin.get(ADMIN).get_data(as_text=True)
    assert "民政局婚姻登记系统" in listed and key.split("_")[1] in listed
    assert key not in listed and key.split("_", 2)[2] not in listed  # the answer page was the only showing
    [info] = svc.api_keys.all_keys()
    assert (info.name, info.role, info.revoked) == ("民政局婚姻登记系统", "system", False)


def test_a_bad_name_or_role_creates_nothing(app, svc, admin):
    for data in ({"name": "", "role": "system"}, {"name": "x" * 101, "role": "system"},
                 {"name": "ok", "role": "root"}, {"name": "tab\tinside", "role": "admin"}):
        answer = post(admin, KEYS, data)
        assert answer.status_code == 422, data
        assert not SHOWN_KEY.search(answer.get_data(as_text=True))
    assert svc.api_keys.all_keys() == []


def test_a_key_cannot_take_a_name_the_service_itself_reads_under(app, svc, admin):
    """A key's name is the reader a citizen sees in their access log: "reminder delivery" would pass for the service."""
    for name in ("reminder delivery", "Reminder Delivery", "operator (command line)"):
        answer = post(admin, KEYS, {"name": name, "role": "system"})
        assert answer.status_code == 422 and "本系统自身查阅时使用的名称" in answer.get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["apikey", "create", "--role", "system", "--name",
                                                "department feed (command-line import)"])
    assert result.exit_code != 0 and "name" in result.output and not SHOWN_KEY.search(result.output)
    assert svc.api_keys.all_keys() == []


def test_an_admin_revokes_a_key_after_confirming_and_it_gets_401_at_once(app, svc, admin):
    key = created_key(admin, name="old-system")
    kid = key.split("_")[1]
    client = app.test_client()
    assert client.get(CATALOG, headers=bearer(key)).status_code == 200

    confirm = admin.get(f"{KEYS}/{kid}/revoke")
    assert confirm.status_code == 200 and "old-system" in confirm.get_data(as_text=True)
    assert client.get(CATALOG, headers=bearer(key)).status_code == 200  # asking to confirm revokes nothing

    done = post(admin, f"{KEYS}/{kid}/revoke")
    assert done.status_code == 303 and done.headers["Location"] == ADMIN + "#h-keys"
    assert client.get(CATALOG, headers=bearer(key)).status_code == 401
    listed = admin.get(ADMIN).get_data(as_text=True)
    assert "已吊销" in listed and f"{KEYS}/{kid}/revoke" not in listed  # no revoke button for a revoked key
    again = post(admin, f"{KEYS}/{kid}/revoke", follow_redirects=True)
    assert "此前已被吊销" in again.get_data(as_text=True)
    assert admin.get(f"{KEYS}/unknown0123456789/revoke").status_code == 404


@pytest.mark.parametrize("role", ["officer", "supervisor"])
def test_other_officers_are_refused_and_recorded(app, svc, role):
    key = svc.api_keys.create("civil-affairs-bureau", "system")
    kid = key.split("_")[1]
    client = officer(app, svc, f"{role}1", role)
    assert 'href="/officer/admin' not in client.get("/officer").get_data(as_text=True)
    tries = [("GET", ADMIN), ("GET", KEYS), ("POST", KEYS), ("GET", f"{KEYS}/{kid}/revoke"),
             ("POST", f"{KEYS}/{kid}/revoke")]
    for method, path in tries:
        before = len(svc.portal.refusals())
        answer = client.get(path) if method == "GET" else post(client, path, {"name": "mine", "role": "admin"})
        assert answer.status_code == 403, (method, path)
        assert len(svc.portal.refusals()) == before + 1, (method, path)
        refusal = svc.portal.refusals()[0]
        assert refusal.path == path and refusal.role == role and f"({role}1)" in refusal.actor
        assert "civil-affairs-bureau" not in answer.get_data(as_text=True)  # the id is in the path: not secret
    assert [(k.name, k.revoked) for k in svc.api_keys.all_keys()] == [("civil-affairs-bureau", False)]


def test_posts_without_the_csrf_token_are_400_and_change_nothing(app, svc, admin):
    key = svc.api_keys.create("civil-affairs-bureau", "system")
    kid = key.split("_")[1]
    assert admin.post(KEYS, data={"name": "sneaky", "role": "admin"}).status_code == 400
    assert admin.post(f"{KEYS}/{kid}/revoke", data={}).status_code == 400
    assert [(k.name, k.revoked) for k in svc.api_keys.all_keys()] == [("civil-affairs-bureau", False)]
    assert app.test_client().get(CATALOG, headers=bearer(key)).status_code == 200


def test_the_key_pages_have_one_h1_ordered_headings_labelled_inputs_and_scoped_headers(app, svc, admin):
    kid = svc.api_keys.create("civil-affairs-bureau", "system").split("_")[1]
    pages = {"list": admin.get(ADMIN), "confirm": admin.get(f"{KEYS}/{kid}/revoke"),
             "created": post(admin, KEYS, {"name": "window-scripts", "role": "officer"}),
             "refused": post(admin, KEYS, {"name": "", "role": "root"})}
    for what, answer in pages.items():
        audit = _Audit()
        audit.feed(answer.get_data(as_text=True))
        assert audit.headings.count(1) == 1 and audit.headings[0] == 1, what
        assert all(b - a <= 1 for a, b in zip(audit.headings, audit.headings[1:], strict=False)), what
        assert all(c and c in audit.labels for c in audit.controls), (what, audit.controls)
        assert audit.unscoped == 0, what


def test_signed_out_visitors_are_sent_to_sign_in(app):
    answer = app.test_client().get(KEYS)
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/officer/login?next=")
