"""The public "how to do it" guide of each service (/services/<code>): what it is, what to bring, where to go, what
happens in person, the fee, the promised time and whether it can be done online — all from the catalog, no sign-in.
Also the names the forms' link to a guide shows (templates/services/_guide_link.html)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template

from web.pages.guards import services
from web.pages.i18n import is_chinese
from web.pages.names import material_name, service_name, text

bp = Blueprint("services", __name__, url_prefix="/services")


@bp.get("/<code>")
def guide(code: str):
    service = services().catalog.services.get(code)
    if service is None or service.guide is None:
        abort(404)
    return render_template("services/guide.html", service=service, guide=service.guide, t=text,
                           scenarios=_bring(service), bundle=[(c, service_name(c)) for c in service.bundle],
                           sources=[(s.title, _lang(s.title)) for s in service.sources],
                           fee_source=(service.guide.fee.source.title, _lang(service.guide.fee.source.title)))


def _lang(title: str) -> str | None:
    """Sources are cited by their Chinese titles: on an English page such a title is marked as Chinese, so a screen
    reader reads it in Chinese."""
    return "zh-CN" if not is_chinese() and re.match(r"[\u3400-\u9fff]", title) else None


def _bring(service) -> list[tuple[str | None, list[str]]]:
    """What to bring, per scenario (办事情形): (the scenario's name, or None when there is only one; material names).
    A material named twice in a scenario is listed once."""
    named = len(service.scenarios) > 1
    return [(text(sc.name) if named else None, list(dict.fromkeys(material_name(m.kind) for m in sc.materials)))
            for sc in service.scenarios]


@bp.app_template_global("service_guides")
def service_guides(codes) -> list[tuple[str, str]]:
    """(code, name in the visitor's language) of each known service among `codes`, for links to their guides."""
    catalog = services().catalog.services
    return [(c, service_name(c)) for c in dict.fromkeys(codes) if c in catalog and catalog[c].guide is not None]
