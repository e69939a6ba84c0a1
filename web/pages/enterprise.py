"""Placeholder: the enterprise pages (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.pages.guards import signed_in

bp = Blueprint("enterprise", __name__, url_prefix="/biz")


@bp.route("")
@signed_in("business")
def home():
    return render_template("placeholder.html")
