"""The relationship picture on the officer's profile page, drawn by Graphviz from the real graph: a family with two
parents, three children and the father's company. Each person once with every role on one edge, no two boxes
overlapping, every box a link that carries the purpose over to the linked record's own purpose form, ages shown,
English labels whole; the list under it counts the same; without `dot` the page still answers with the list."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from itertools import combinations
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import structlog

from profiles.models import Material, Relation
from tests.integration.pages_fixtures import pages_sandbox, pages_services, pages_site  # noqa: F401
from tests.integration.pages_helpers import make_entity, make_officer, make_person, post, sign_in_officer

PURPOSE = "核对家庭成员信息"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the app's day
SVG = "{http://www.w3.org/2000/svg}"
_PAIR = re.compile(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")


def age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def family(svc):
    father = make_person(svc, name="陈大文", born=date(1980, 4, 2))
    mother = make_person(svc, name="林小红", born=date(1982, 11, 15))
    children = [make_person(svc, name=name, born=born) for name, born in
                (("陈一", date(2008, 5, 1)), ("陈二", date(2012, 9, 10)), ("陈三", TODAY - timedelta(days=400)))]
    svc.subjects.relate(Relation(father.pid, mother.pid, "SPOUSE_OF"))
    for parent in (father, mother):
        for child in children:
            svc.subjects.relate(Relation(parent.pid, child.pid, "PARENT_OF"))
    svc.subjects.relate(Relation(father.pid, children[2].pid, "GUARDIAN_OF"))  # a second role to the same child
    company = make_entity(svc, name="佛山市禅城区陈氏家具有限公司", legal_rep=father)
    svc.subjects.relate(Relation(father.pid, company.eid, "SHAREHOLDER_OF"))  # and a second role to the company
    for kind in ("id_card", "hukou"):
        svc.holdings.add_material("Person", Material(str(uuid.uuid4()), father.pid, kind, f"N{kind}", date(2015, 1, 1),
                                                     None, "佛山市公安局禅城分局", "issued", {}))
    return father, mother, children, company


def signed_in_officer(app, svc):
    make_officer(svc)
    client = app.test_client()
    assert sign_in_officer(client, "window1").status_code == 303
    return client


def picture_of(page: str) -> ET.Element:
    found = re.search(r'<svg[^>]*\bid="relations".*?</svg>', page, re.S)
    assert found, "no relationship picture on the page"
    return ET.fromstring(found.group(0))


def nodes(root: ET.Element) -> list[dict]:
    """Each box: its lines of text, its link, and its bounding box from the shape Graphviz drew."""
    found = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "node":
            continue
        shape = next(e for e in g.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))
        if shape.tag == f"{SVG}ellipse":
            cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
            box = (cx - rx, cy - ry, cx + rx, cy + ry)
        else:
            points = [(float(x), float(y)) for x, y in _PAIR.findall(shape.get("d") or shape.get("points"))]
            xs, ys = [x for x, _ in points], [y for _, y in points]
            box = (min(xs), min(ys), max(xs), max(ys))
        links = [a.get("href") for a in g.iter(f"{SVG}a")]
        found.append({"text": " ".join(t.text or "" for t in g.iter(f"{SVG}text")), "links": links, "box": box})
    return found


def edge_labels(root: ET.Element) -> list[list[str]]:
    return sorted([t.text for t in g.iter(f"{SVG}text")] for g in root.iter(f"{SVG}g") if g.get("class") == "edge")


def overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_familys_picture_has_each_person_once_no_overlaps_links_with_the_purpose_and_ages(app, svc):
    father, mother, children, company = family(svc)
    client = signed_in_officer(app, svc)
    assert post(client, "/officer/search", {"number": father.id_number, "purpose": PURPOSE}).status_code == 303
    client.get("/lang/en?next=/officer")
    page = client.get(f"/officer/persons/{father.pid}").get_data(as_text=True)
    root = picture_of(page)
    boxes = nodes(root)

    relatives = [mother, *children]
    assert len(boxes) == 1 + len(relatives) + 1 + 2  # the record, its relatives, the company, two materials
    assert boxes[0]["text"] == f"{father.name} age {age(father.birth_date)}" and boxes[0]["links"] == []
    for person in relatives:
        mine = [b for b in boxes if person.name in b["text"]]
        assert len(mine) == 1, (person.name, boxes)  # each person once, whatever their roles
        assert mine[0]["text"] == f"{person.name} age {age(person.birth_date)}"
    assert sum(company.name in b["text"].replace(" ", "") for b in boxes) == 1

    for a, b in combinations(boxes, 2):
        assert not overlap(a["box"], b["box"]), (a, b)

    linked = [b for b in boxes if b["links"]]
    assert len(linked) == len(relatives) + 1  # every person and the business; the materials have no page
    for box in linked:
        (href,) = box["links"]
        parts = urlsplit(href)
        assert re.fullmatch(r"/officer/(persons|entities)/[0-9a-f-]{36}/open", parts.path), href
        assert parse_qs(parts.query) == {"from": [f"Person:{father.pid}"]}

    # English labels whole (wrapped, never cut), every role of one relative on its one edge
    assert "…" not in ET.tostring(root, encoding="unicode")
    assert edge_labels(root) == [["child"], ["child"], ["child", "ward"], ["holds"], ["holds"],
                                 ["legal representative of", "shareholder of"], ["spouse"]]

    # the text alternative: the same nodes once each, counted the same in the picture's description
    desc = root.find(f"{SVG}desc").text
    assert "5 related people and businesses and 2 materials" in desc, desc
    items = re.findall(r"<li>(.*?)</li>", page.split('<ul class="relations">')[1].split("</ul>")[0], re.S)
    assert len(items) == 7
    for person in relatives:
        assert sum(person.name in item for item in items) == 1
    assert any(item.startswith("legal representative of, shareholder of: " + company.name) for item in items)
    assert any(item.startswith("child, ward: 陈三") for item in items)

    # a box's link: the linked record's own purpose form, offered this record's purpose; opening it is recorded
    child = children[0]
    (href,) = next(b["links"] for b in boxes if child.name in b["text"])
    form = client.get(href).get_data(as_text=True)
    assert re.search(r'id="f-purpose"[^>]*value="' + PURPOSE + '"', form.replace("\n", " ")), form
    assert client.get(f"/officer/persons/{child.pid}").status_code == 403  # offered, never applied by a link
    assert post(client, urlsplit(href).path, {"purpose": PURPOSE}).status_code == 303
    assert [(r.what, r.purpose) for r in svc.access_log.for_subject(child.pid)] == [("opened from a link", PURPOSE)]
    unrelated = client.get(f"/officer/persons/{child.pid}/open?from=Person:{mother.pid}").get_data(as_text=True)
    assert 'value=""' in unrelated.split('id="f-purpose"')[1].split(">")[0]  # no purpose stated there: none offered


def test_the_picture_in_chinese_shows_ages_and_the_business_side(app, svc):
    father, _mother, _children, company = family(svc)
    client = signed_in_officer(app, svc)
    assert post(client, f"/officer/entities/{company.eid}/open", {"purpose": PURPOSE}).status_code == 303
    root = picture_of(client.get(f"/officer/entities/{company.eid}").get_data(as_text=True))
    boxes = nodes(root)
    assert len(boxes) == 2 and boxes[1]["text"] == f"{father.name} {age(father.birth_date)} 岁"
    assert boxes[1]["links"] == [f"/officer/persons/{father.pid}/open?from=Entity:{company.eid}"]
    assert edge_labels(root) == [["法定代表人", "股东"]]


def test_without_dot_the_profile_answers_with_the_list_and_a_warning(app, svc, monkeypatch, tmp_path):
    father, mother, _children, company = family(svc)
    client = signed_in_officer(app, svc)
    assert post(client, "/officer/search", {"number": father.id_number, "purpose": PURPOSE}).status_code == 303
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: Graphviz's dot cannot be found
    with structlog.testing.capture_logs() as logs:
        answer = client.get(f"/officer/persons/{father.pid}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="relations"' not in page
    assert page.count("/open?from=Person:") == 5 and company.name in page and mother.name in page
    assert any(e["log_level"] == "warning" and "dot" in e["event"] for e in logs), logs
