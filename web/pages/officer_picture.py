"""A record's relationship picture: laid out by Graphviz's `dot` (one box per person, business or material, every
relation on its edge), then checked element by element before it is inlined as SVG; without `dot`, no picture."""

from __future__ import annotations

import textwrap
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from subprocess import CalledProcessError

import graphviz
import structlog
from markupsafe import Markup

log = structlog.get_logger(__name__)

# Box outlines by kind, as the picture has always used them (materials are also dashed).
KIND_COLOURS = {"Person": "#0b4f8a", "Entity": "#1a6b35", "Material": "#8a5a00"}
CENTRE_FILL, TEXT, NOTE, EDGE = "#0b4f8a", "#1b1f24", "#4a5560", "#6b7680"

WIDE = 480  # px: wider than this, the picture keeps at least .picture .wide's min-width (site.css)

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG)
# Everything `dot -Tsvg` makes for this picture. A name is only ever text in a <text>: anything else in the output
# (an element, an attribute such as an event handler, a link off the site) refuses the whole drawing.
ELEMENTS = {"svg", "g", "title", "a", "polygon", "polyline", "path", "ellipse", "text"}
ATTRIBUTES = {"width", "height", "viewBox", "transform", "id", "class", "fill", "stroke", "stroke-width",
              "stroke-dasharray", "points", "d", "cx", "cy", "rx", "ry", "x", "y", "text-anchor", "font-family",
              "font-size", "font-weight", "target", f"{{{XLINK}}}href", f"{{{XLINK}}}title"}


@dataclass(frozen=True)
class Node:
    """Someone or something drawn around the record, once, with every relation it has to the record."""

    kind: str  # Person | Entity | Material
    name: str
    roles: tuple[str, ...]  # what it is to the record ("spouse", "legal representative of"): the edge's label
    note: str = ""  # a smaller line under the name (a person's age, a material's status)
    href: str = ""  # the page it opens (a site path), or none
    before: bool = False  # drawn left of the record (its parents, guardians, spouse, materials), else right of it


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` display columns (a Chinese character takes two): broken between words where there
    are spaces, and inside a word only when the word alone is longer than a line. Nothing is cut off."""
    lines: list[str] = []
    for line in textwrap.wrap(text, width=max(columns, 2), break_long_words=False, break_on_hyphens=False) or [""]:
        while _columns(line) > columns:
            head = ""
            for char in line:
                if _columns(head + char) > columns:
                    break
                head += char
            lines.append(head)
            line = line[len(head):]
        lines.append(line)
    return [line for line in lines if line] or [""]


def _label(lines: list[str]) -> str:
    """Plain text, centred line by line, exactly as typed: graphviz.escape keeps a backslash from being one of dot's
    escapes (\\N, \\G, \\l) and nohtml a name in angle brackets from being read as an HTML-like label; "&" is
    written as an entity because dot reads entities ("&amp;") in any label. dot escapes the text for SVG itself."""
    return graphviz.nohtml("\\n".join(graphviz.escape(line.replace("&", "&amp;")) for line in lines))


def _node_label(name: str, note: str) -> str:
    return _label(wrap(name, 24) + (wrap(note, 24) if note else []))


def _graph(centre: str, centre_note: str, nodes: list[Node]) -> graphviz.Graph:
    g = graphviz.Graph(engine="dot", graph_attr={"rankdir": "LR", "nodesep": "0.18", "ranksep": "0.5",
                                                 "bgcolor": "transparent", "pad": "0.15"},
                       node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff",
                                  "fontname": "sans-serif", "fontsize": "13", "fontcolor": TEXT,
                                  "penwidth": "2", "margin": "0.14,0.1"},
                       edge_attr={"color": EDGE, "penwidth": "1.5", "fontname": "sans-serif", "fontsize": "11",
                                  "fontcolor": TEXT})
    g.node("c", _node_label(centre, centre_note), color=CENTRE_FILL, fillcolor=CENTRE_FILL, fontcolor="#ffffff",
           fontsize="14")
    for i, node in enumerate(nodes):
        name = f"n{i}"
        attrs = {"color": KIND_COLOURS.get(node.kind, NOTE)}
        if node.kind == "Material":
            attrs["style"] = "rounded,dashed,filled"
        if node.href:
            attrs |= {"URL": graphviz.escape(node.href), "target": "_top"}
        g.node(name, _node_label(node.name, node.note), **attrs)
        ends = (name, "c") if node.before else ("c", name)
        g.edge(*ends, label=_label([line for role in node.roles for line in wrap(role, 26)]))
    return g


def _checked(svg: bytes, chart_id: str, title: str, desc: str) -> str:
    """dot's SVG with only what it is expected to make (else ValueError), its own titles and ids replaced by ours,
    the links as plain href (site paths only)."""
    root = ET.fromstring(svg)  # comments and the doctype are not kept
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == f"{{{SVG}}}title":  # dot's are its node ids ("n3"): noise to a screen reader
                parent.remove(child)
    for element in root.iter():
        tag = element.tag.removeprefix(f"{{{SVG}}}")
        if tag not in ELEMENTS or not set(element.attrib) <= ATTRIBUTES:
            raise ValueError(f"unexpected SVG from dot: {tag} {sorted(element.attrib)}")
        element.attrib.pop("id", None)
        element.attrib.pop(f"{{{XLINK}}}title", None)
        if tag == "a":
            href = element.attrib.pop(f"{{{XLINK}}}href", "")
            if not href.startswith("/") or href.startswith("//"):
                raise ValueError(f"unexpected link in SVG from dot: {href!r}")
            element.attrib["href"] = href
    # One unit a CSS pixel (dot says points, which would draw it a third larger than its fonts were measured for).
    width, height = (float(v) for v in root.attrib["viewBox"].split()[2:])
    # A wide picture keeps a legible minimum on a phone and scrolls in its figure; a narrow one just fits.
    # A group, not role="img": its links are reachable (an image's children are presentational).
    root.attrib |= {"width": f"{width:.0f}", "height": f"{height:.0f}", "id": chart_id,
                    "class": "relations-svg wide" if width > WIDE else "relations-svg", "role": "group",
                    "aria-labelledby": f"{chart_id}-t", "aria-describedby": f"{chart_id}-d"}
    heading = ET.Element(f"{{{SVG}}}title", id=f"{chart_id}-t")
    heading.text = title
    description = ET.Element(f"{{{SVG}}}desc", id=f"{chart_id}-d")
    description.text = desc
    root.insert(0, description)
    root.insert(0, heading)
    return ET.tostring(root, encoding="unicode")


def is_wide(picture: Markup | None) -> bool:
    """Whether the picture keeps a width a phone's screen does not have (its frame then scrolls and says so)."""
    return picture is not None and 'class="relations-svg wide"' in picture


def relationship_picture(chart_id: str, title: str, desc: str, centre: str, nodes: list[Node],
                         centre_note: str = "", most: int = 16) -> Markup | None:
    """The record and up to `most` nodes around it as inline SVG, or None when `dot` is missing or fails (the page
    then shows the list it always shows under the picture, which has every node)."""
    graph = _graph(centre, centre_note, nodes[:most])
    try:
        svg = graph.pipe(format="svg")
    except graphviz.ExecutableNotFound:
        log.warning("relationship picture left out: Graphviz's dot is not installed (apt-get install graphviz)")
        return None
    except CalledProcessError as exc:
        # Not its stderr: dot quotes the input near an error, and the input holds names.
        log.warning("relationship picture left out: dot failed", returncode=exc.returncode)
        return None
    try:
        return Markup(_checked(svg, chart_id, title, desc))
    except (ET.ParseError, ValueError) as exc:
        log.warning("relationship picture left out: dot's SVG did not pass the check", reason=str(exc)[:300])
        return None
