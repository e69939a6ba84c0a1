"""Placeholder: the officer pages (to be built)."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.pages.guards import signed_in

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.route("")
@signed_in("officer")
def home():
    return render_template("placeholder.html")
