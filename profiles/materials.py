"""Material kinds (证照/材料), declared once: code, names, issuing authority, who holds it, whether it expires.

`expires`: "always" (an expiry date is required), "never" (none allowed) or "optional" (long-term 长期 possible, as
for ID cards issued at 46 or older, or business licences with an indefinite term).
"""

from __future__ import annotations

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


MATERIAL_KINDS: dict[str, MaterialKind] = {k.code: k for k in (
    MaterialKind("id_card", "居民身份证", "Resident identity card", "公安机关", "person", "optional"),
    MaterialKind("hukou", "居民户口簿", "Household register", "公安机关", "person", "never"),
    MaterialKind("birth_certificate", "出生医学证明", "Medical birth certificate", "卫生健康部门", "person", "never"),
    MaterialKind("passport", "普通护照", "Ordinary passport", "出入境管理机构", "person", "always"),
    MaterialKind("driving_licence", "机动车驾驶证", "Driving licence", "公安机关交通管理部门", "person", "optional"),
    MaterialKind("residence_permit", "居住证", "Residence permit", "公安机关", "person", "always"),
    MaterialKind("marriage_certificate", "结婚证", "Marriage certificate", "民政部门", "person", "never"),
    MaterialKind("social_security_card", "社会保障卡", "Social security card", "人力资源社会保障部门", "person",
                 "optional"),
    MaterialKind("vaccination_certificate", "预防接种证", "Vaccination certificate", "疾病预防控制机构", "person",
                 "never"),
    MaterialKind("business_licence", "营业执照", "Business licence", "市场监督管理部门", "entity", "optional"),
    MaterialKind("food_business_permit", "食品经营许可证", "Food business permit", "市场监督管理部门", "entity",
                 "always"),
)}


class MaterialRejected(Rejected):
    """A material that cannot be recorded; `field` is the request field at fault."""


def check_material(holder: str, kind: str, issued_on: date, expires_on: date | None, today: date) -> MaterialKind:
    """The rules every new material obeys, whoever records it; raises MaterialRejected naming the field."""
    spec = MATERIAL_KINDS.get(kind)
    if spec is None:
        raise MaterialRejected("kind", f"unknown material kind {kind!r}")
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
