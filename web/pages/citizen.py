"""Placeholder: the citizen pages (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.pages.guards import signed_in

bp = Blueprint("citizen", __name__, url_prefix="/me")


@bp.route("")
@signed_in("citizen")
def home():
    return render_template("placeholder.html")
