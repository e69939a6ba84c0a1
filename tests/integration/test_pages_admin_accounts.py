"""Officer accounts and the refusals log on the admin page (issue 18), with real Neo4j and Redis: creating an account
(a password meeting the rules), bad input naming its field with nothing written and the typed values kept, disabling
(it cannot sign in, its open sessions end) and enabling again, resetting a password (its sessions end too), each
action recorded; other roles refused."""

from __future__ import annotations

import re

import pytest

from graph.officers import Officers
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import OFFICER_PASSWORD, make_person, post, sign_in_officer
from tests.integration.test_pages_admin import ADMIN, officer

OFFICERS = "/officer/admin/officers"
NEW = {"username": "window7", "officer_name": "王小窗", "officer_role": "officer", "department": "禅城区行政服务中心",
       "password": "a-Long-enough-secret-7"}


@pytest.fixture
def admin(app, svc):
    return officer(app, svc, "admin1", "admin")


def summary_links(page: str) -> list[str]:
    found = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    return re.findall(r'href="#([^"]+)"', found.group(0)) if found else []


def can_sign_in(app, username: str, password: str) -> bool:
    return sign_in_officer(app.test_client(), username, password).status_code == 303


def test_an_admin_creates_an_officer_who_can_sign_in_and_the_action_is_recorded(app, svc, admin):
    answer = post(admin, OFFICERS, NEW)
    assert answer.status_code == 303 and answer.headers["Location"] == ADMIN + "#h-officers"
    made = svc.officers.get("window7")
    assert (made.name, made.role, made.department, made.active) == ("王小窗", "officer", "禅城区行政服务中心", True)
    assert can_sign_in(app, "window7", NEW["password"])
    [action] = svc.officers.actions()
    assert (action.action, action.target) == ("created_officer", "window7 (officer)") and "(admin1)" in action.actor
    page = admin.get(ADMIN).get_data(as_text=True)
    assert "王小窗" in page and "新建了账号" in page and NEW["password"] not in page


@pytest.mark.parametrize(("change", "field"), [
    ({"password": "short-1"}, "password"),  # fewer than 12 characters
    ({"password": "aaaaaabbbbbb"}, "password"),  # fewer than 5 different characters
    ({"username": "Bad Name!"}, "username"),
    ({"username": ""}, "username"),
    ({"officer_name": ""}, "officer_name"),
    ({"officer_name": "王\u202e小窗"}, "officer_name"),  # a bidi override would disguise the name citizens read
    ({"department": ""}, "department"),
    ({"officer_role": "root"}, "officer_role"),
])
def test_bad_input_names_the_field_keeps_what_was_typed_and_writes_nothing(app, svc, admin, change, field):
    before = svc.officers.all()
    answer = post(admin, OFFICERS, {**NEW, **change})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert summary_links(text) == [f"f-{field}"] and f'id="e-{field}"' in text
    assert svc.officers.all() == before and svc.officers.actions() == []
    for kept in ("username", "officer_name", "department"):
        if kept != field:
            assert f'value="{NEW[kept]}"' in text, kept
    assert NEW["password"] not in text and (change.get("password") or "§") not in text  # never echoed


def test_a_taken_user_name_is_refused_naming_the_field(app, svc, admin):
    assert post(admin, OFFICERS, NEW).status_code == 303
    again = post(admin, OFFICERS, {**NEW, "officer_name": "另一个人"})
    assert again.status_code == 422 and summary_links(again.get_data(as_text=True)) == ["f-username"]
    assert svc.officers.get("window7").name == "王小窗" and len(svc.officers.all()) == 2


def test_a_disabled_officer_cannot_sign_in_until_enabled_again(app, svc, admin):
    officer(app, svc, "window2", "officer")
    assert post(admin, f"{OFFICERS}/window2/active", {"active": "0"}).status_code == 303
    assert not svc.officers.get("window2").active and not can_sign_in(app, "window2", OFFICER_PASSWORD)
    assert "已停用" in admin.get(ADMIN).get_data(as_text=True)
    assert post(admin, f"{OFFICERS}/window2/active", {"active": "1"}).status_code == 303
    assert can_sign_in(app, "window2", OFFICER_PASSWORD)
    assert [a.action for a in svc.officers.actions()] == ["enabled_officer", "disabled_officer"]


def signed_out(client) -> bool:
    """The officer's browser is sent to sign in when it asks for its first page again."""
    answer = client.get("/officer")
    return answer.status_code == 303 and "/officer/login" in answer.headers["Location"]


def test_disabling_an_account_ends_the_sessions_it_has_open(app, svc, admin):
    at_window, at_home = officer(app, svc, "window2", "officer"), app.test_client()
    assert sign_in_officer(at_home, "window2").status_code == 303
    other = officer(app, svc, "window9", "officer")
    assert not signed_out(at_window) and not signed_out(at_home)
    assert post(admin, f"{OFFICERS}/window2/active", {"active": "0"}).status_code == 303
    assert signed_out(at_window) and signed_out(at_home)
    assert not signed_out(other) and not signed_out(admin)  # only that officer's sessions end


def test_disabling_from_the_command_line_ends_the_sessions_too(app, svc, admin):
    at_window = officer(app, svc, "window6", "officer")
    result = app.test_cli_runner().invoke(args=["officer", "disable", "window6"])
    assert result.exit_code == 0 and "1 open session ended" in result.output
    assert signed_out(at_window) and not signed_out(admin) and not svc.officers.get("window6").active


def test_a_password_reset_ends_the_sessions_opened_with_the_old_password(app, svc, admin):
    at_window = officer(app, svc, "window3", "officer")
    assert post(admin, f"{OFFICERS}/window3/password", {"password": "Another-good-one-42"}).status_code == 303
    assert signed_out(at_window)
    assert post(admin, f"{OFFICERS}/admin1/password", {"password": "Admins-own-new-one-42"}).status_code == 303
    assert not signed_out(admin)  # an admin resetting their own password stays signed in where they did it


def test_a_session_missing_from_the_officers_index_is_signed_out(app, svc, admin):
    """Sessions opened before they were indexed per officer could not be ended by a disable: they end now."""
    at_window = officer(app, svc, "window4", "officer")
    svc.redis.delete("pages:officer-sessions:window4")
    assert signed_out(at_window) and not signed_out(admin)


def test_an_account_disabled_while_its_password_was_being_checked_gets_no_session(app, svc, admin, monkeypatch):
    officer(app, svc, "window5", "officer")
    real = Officers.sign_in

    def disabled_meanwhile(self, username, password):
        found = real(self, username, password)
        assert found is not None
        assert post(admin, f"{OFFICERS}/window5/active", {"active": "0"}).status_code == 303
        return found

    monkeypatch.setattr(Officers, "sign_in", disabled_meanwhile)
    late = app.test_client()
    assert sign_in_officer(late, "window5").status_code == 422
    assert signed_out(late)


def test_an_admin_cannot_disable_their_own_account(app, svc, admin):
    answer = post(admin, f"{OFFICERS}/admin1/active", {"active": "0"}, follow_redirects=True)
    assert "不能停用您自己的账号" in answer.get_data(as_text=True)
    assert svc.officers.get("admin1").active and svc.officers.actions() == []
    assert post(admin, f"{OFFICERS}/nobody/active", {"active": "0"}).status_code == 404


def test_a_password_reset_replaces_the_old_one_and_a_weak_one_is_refused(app, svc, admin):
    officer(app, svc, "window3", "officer")
    form = admin.get(f"{OFFICERS}/window3/password")
    assert form.status_code == 200 and "window3" in form.get_data(as_text=True)
    weak = post(admin, f"{OFFICERS}/window3/password", {"password": "too-short"})
    assert weak.status_code == 422 and summary_links(weak.get_data(as_text=True)) == ["f-password"]
    assert can_sign_in(app, "window3", OFFICER_PASSWORD) and svc.officers.actions() == []
    done = post(admin, f"{OFFICERS}/window3/password", {"password": "Another-good-one-42"})
    assert done.status_code == 303
    assert not can_sign_in(app, "window3", OFFICER_PASSWORD) and can_sign_in(app, "window3", "Another-good-one-42")
    assert [(a.action, a.target) for a in svc.officers.actions()] == [("reset_password", "window3")]
    assert admin.get(f"{OFFICERS}/nobody/password").status_code == 404


def test_the_refusals_log_lists_officers_refused_reads_newest_first(app, svc, admin):
    person = make_person(svc, name="陈小明")
    nosy = officer(app, svc, "window4", "officer")
    assert nosy.get(f"/officer/persons/{person.pid}").status_code == 403  # no purpose stated
    assert nosy.get(ADMIN).status_code == 403  # the wrong role
    page = admin.get(ADMIN).get_data(as_text=True)
    section = page[page.index('id="h-refusals"'):page.index('id="h-actions"')]
    assert section.count("(window4)") == 2
    assert section.index("无权使用此页面") < section.index("未说明查阅用途")  # newest first


@pytest.mark.parametrize("role", ["officer", "supervisor"])
def test_other_roles_are_refused_every_account_action_and_nothing_changes(app, svc, role):
    client = officer(app, svc, f"{role}1", role)
    officer(app, svc, "window5", "officer")
    tries = [("GET", ADMIN), ("POST", OFFICERS), ("POST", f"{OFFICERS}/window5/active"),
             ("GET", f"{OFFICERS}/window5/password"), ("POST", f"{OFFICERS}/window5/password")]
    for method, path in tries:
        before = len(svc.portal.refusals())
        answer = client.get(path) if method == "GET" else post(client, path, {**NEW, "active": "0"})
        assert answer.status_code == 403, (method, path)
        assert len(svc.portal.refusals()) == before + 1, (method, path)
    assert svc.officers.get("window5").active and len(svc.officers.all()) == 2 and svc.officers.actions() == []
    assert can_sign_in(app, "window5", OFFICER_PASSWORD)


def test_account_posts_without_the_csrf_token_change_nothing(app, svc, admin):
    officer(app, svc, "window6", "officer")
    assert admin.post(OFFICERS, data=NEW).status_code == 400
    assert admin.post(f"{OFFICERS}/window6/active", data={"active": "0"}).status_code == 400
    assert admin.post(f"{OFFICERS}/window6/password", data={"password": "Another-good-one-42"}).status_code == 400
    assert svc.officers.get("window6").active and can_sign_in(app, "window6", OFFICER_PASSWORD)
    assert len(svc.officers.all()) == 2
