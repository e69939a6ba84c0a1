"""Catalog names (services, material kinds) in the visitor's language, for every page area."""

from __future__ import annotations

from web.pages.guards import services
from web.pages.i18n import is_chinese


def bilingual(zh: str, en: str) -> str:
    return zh if is_chinese() else en


def text(pair) -> str:
    """A catalog name (model.Text) in the visitor's language."""
    return bilingual(pair.zh, pair.en)


def service_name(code: str) -> str:
    service = services().catalog.services.get(code)
    return text(service.name) if service else code


def material_name(kind: str) -> str:
    spec = services().catalog.materials.get(kind)
    return bilingual(spec.name_zh, spec.name_en) if spec else kind
