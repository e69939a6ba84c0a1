"""The relationship picture as Graphviz draws it: names are only ever text (markup, quotes and dot's own escapes in a
name come out inert), nothing but dot's shapes and our site links reaches the page, nothing is cut off, and a machine
without `dot` gets no picture and a warning instead of an error."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import structlog

from web.pages.officer_picture import SVG, Node, _checked, relationship_picture, wrap

HOSTILE = ["<script>alert(1)</script>", '" onload="alert(1)', "\\N \\G \\L \\", "<b>bold</b>", "]]> & &amp; <!--",
           "javascript:alert(1)"]


def tree(picture) -> ET.Element:
    return ET.fromstring(str(picture))


def local(element: ET.Element) -> str:
    return element.tag.removeprefix(f"{{{SVG}}}")


def node_texts(root: ET.Element) -> list[str]:
    """Each node's lines of text, joined with a space, in drawing order (the record first)."""
    return [" ".join(t.text or "" for t in g.iter(f"{{{SVG}}}text"))
            for g in root.iter(f"{{{SVG}}}g") if g.get("class") == "node"]


def test_a_hostile_name_is_only_text_and_the_picture_carries_nothing_but_shapes_and_site_links():
    nodes = [Node("Person", name, ("child",), "age 3", f"/officer/persons/p{i}/open") for i, name in enumerate(HOSTILE)]
    nodes.append(Node("Entity", "x", ('"><script>alert(2)</script>',), "", "/officer/entities/e/open"))
    picture = relationship_picture("relations", "<script>t</script>", '"desc"', "</svg><script>c</script>", nodes)
    assert picture is not None
    root = tree(picture)
    elements = {local(e) for e in root.iter()}
    assert elements <= {"svg", "g", "title", "desc", "a", "path", "polygon", "text"}, elements
    assert not any(name.lower().startswith("on") for e in root.iter() for name in e.attrib)
    assert all(a.get("href", "").startswith("/officer/") for a in root.iter(f"{{{SVG}}}a"))
    texts = node_texts(root)
    assert texts[0] == "</svg><script>c</script>"
    for name in HOSTILE:  # exactly as typed (wrapped lines joined), not interpreted by dot or the browser
        assert any(t.replace(" ", "").startswith(name.replace(" ", "")) for t in texts[1:]), (name, texts)
    edge_texts = [t.text for g in root.iter(f"{{{SVG}}}g") if g.get("class") == "edge" for t in g]
    assert '"><script>alert(2)</script>' in "".join(t for t in edge_texts if t)
    assert "<script" not in str(picture).lower()  # a quote in text needs no escaping: no attribute holds a name
    assert root.find(f"{{{SVG}}}title").text == "<script>t</script>"  # ours, as text


@pytest.mark.parametrize("svg", [
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>alert(1)</script></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><g onload="alert(1)"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><foreignObject/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">'
    b'<a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">'
    b'<a xlink:href="//elsewhere.example/x"><text>x</text></a></svg>',
])
def test_anything_dot_does_not_make_for_this_picture_is_refused(svg):
    with pytest.raises(ValueError):
        _checked(svg, "relations", "t", "d")


def test_long_english_and_chinese_names_wrap_and_nothing_is_cut():
    english = "legal representative of a very long business name indeed"
    chinese = "佛山市禅城区示例贸易有限公司第二分公司"
    for text, columns in ((english, 24), (chinese, 24), ("Supercalifragilisticexpialidocious", 10)):
        lines = wrap(text, columns)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert len(lines) > 1
    assert wrap("legal representative of", 26) == ["legal representative of"]
    picture = relationship_picture("relations", "t", "d", "陈大文", [
        Node("Entity", chinese, ("legal representative of", "shareholder of"), "", "/officer/entities/e/open")])
    assert picture is not None and "…" not in str(picture)
    texts = node_texts(tree(picture))
    assert texts[1].replace(" ", "") == chinese


def test_without_dot_there_is_no_picture_and_a_warning(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` to be found
    with structlog.testing.capture_logs() as logs:
        picture = relationship_picture("relations", "t", "d", "陈大文", [Node("Person", "林小红", ("spouse",))])
    assert picture is None
    assert [entry["log_level"] for entry in logs] == ["warning"] and "dot" in logs[0]["event"]
