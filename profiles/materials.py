"""Material kinds (证照/材料) and the rules every new material obeys. The kinds are declared once, in the catalog's
materials.yaml: code, names, issuing authority, who holds it, whether it expires. Whoever checks a material passes the
kinds of the catalog it loaded (`Catalog.materials`), so a catalog kept elsewhere (LIFECYCLE_CATALOG) is the one obeyed.

`expires`: "always" (an expiry date is required), "never" (none allowed) or "optional" (long-term 长期 possible, as
for ID cards issued at 46 or older, or business licences with an indefinite term).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from profiles.errors import Rejected


@dataclass(frozen=True)
class MaterialKind:
    code: str
    name_zh: str
    name_en: str
    issuer: str
    holder: str  # "person" or "entity"
    expires: str  # "always" / "never" / "optional"


class MaterialRejected(Rejected):
    """A material that cannot be recorded; `field` is the request field at fault."""


def check_material(kinds: Mapping[str, MaterialKind], holder: str, kind: str, issued_on: date,
                   expires_on: date | None, today: date) -> MaterialKind:
    """The rules every new material obeys, whoever records it, for the catalog's `kinds`; raises MaterialRejected
    naming the field."""
    spec = kinds.get(kind)
    if spec is None:
        raise MaterialRejected("kind", f"unknown material kind; one of {', '.join(kinds)}")
    if spec.holder != holder:
        raise MaterialRejected("kind", f"a {spec.name_en.lower()} is held by {_article(spec.holder)} {spec.holder}, "
                                       f"not {_article(holder)} {holder}")
    if issued_on > today:
        raise MaterialRejected("issued_on", "the issue date is in the future")
    if expires_on is not None:
        if spec.expires == "never":
            raise MaterialRejected("expires_on", f"a {spec.name_en.lower()} does not expire; leave expires_on null")
        if expires_on <= issued_on:
            raise MaterialRejected("expires_on", "the expiry date must be after the issue date")
    elif spec.expires == "always":
        raise MaterialRejected("expires_on", f"a {spec.name_en.lower()} always has an expiry date")
    return spec


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
