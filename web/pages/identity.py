"""How a person is identified on a page: the ID number masked, or a newborn's "not yet registered" with its birth
certificate number masked."""

from __future__ import annotations

from flask_babel import gettext as _

from profiles.models import Person
from profiles.privacy import mask_birth_certificate_number, mask_id_number


def person_number(person: Person) -> str:
    """The ID number masked; a newborn before household registration has none yet, and is shown as such with its
    birth certificate number masked (the `person_number` filter of the templates)."""
    if person.id_number:
        return mask_id_number(person.id_number)
    if person.birth_certificate_number:
        return _("Not yet registered in a household (birth certificate %(number)s)",
                 number=mask_birth_certificate_number(person.birth_certificate_number))
    return _("Not yet registered in a household")
