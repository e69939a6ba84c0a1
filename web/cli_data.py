"""Flask CLI commands that load data: bulk import and demo seed (filled in by the import/demo work)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
