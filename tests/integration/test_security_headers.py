"""Headers an outside probe found missing (issue 14): `Allow` on a JSON 405, frame protection and nosniff on pages,
a Content-Security-Policy of our own files only, and `Cache-Control: no-store` wherever personal data is answered."""

from __future__ import annotations

import re

from tests.integration.api_helpers import keys
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_person, sign_in_citizen
from web.pages.officer_charts import PALETTE

PHONE = "+8613712348001"


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def test_a_json_405_names_the_methods_allowed(client):
    answer = client.post("/api/v1/catalog/services", json={})
    assert answer.status_code == 405 and answer.is_json and answer.get_json()["code"] == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}
    assert "POST" not in answer.headers["Allow"]
    page = client.put("/login", headers={"Accept": "text/html"})
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_pages_cannot_be_framed_or_sniffed_and_run_only_our_own_files(client):
    answer = client.get("/login")
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    csp = directives(answer.headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert "unsafe-inline" not in answer.headers["Content-Security-Policy"]
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_nothing_with_personal_data_is_kept_in_a_cache(app, svc, sandbox):
    me = make_person(svc, phone=PHONE, name="上官婉儿")
    client = app.test_client()
    sign_in_citizen(client, sandbox, me.id_number, PHONE)
    page = client.get("/me")
    assert "上官婉儿" in page.get_data(as_text=True) and page.headers["Cache-Control"] == "no-store"
    officer = keys(app)["officer"]
    api = client.get(f"/api/v1/persons/{me.pid}", headers={**officer, "X-Purpose": "核验"})
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"
    assert client.get("/login/code").headers["Cache-Control"] == "no-store"
    static = client.get("/static/site.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_no_page_template_has_inline_script_or_style(project_root):
    """What the policy would block in a browser (the browser tests also fail on any blocked load)."""
    offending = []
    for template in (project_root / "web" / "templates").rglob("*.html"):
        text = template.read_text()
        for marker in ("<script>", " style=\"", " onclick=", " onload=", " onsubmit=", "<style"):
            if marker in text:
                offending.append(f"{template.relative_to(project_root)}: {marker.strip()}")
    assert offending == []


def test_the_legend_swatches_are_the_charts_colours(project_root):
    """The dashboard's legend colours are CSS classes (no inline style under the policy): the same as the charts'."""
    css = (project_root / "web" / "static" / "site.css").read_text()
    found = dict(re.findall(r"\.swatch-(\d) \{ background: (#[0-9a-f]{6}); \}", css))
    assert [found[str(n)] for n in range(len(PALETTE))] == list(PALETTE)
