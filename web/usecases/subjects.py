"""Which record an action is about: one `SubjectRef` for a person or an entity, however a channel names it."""

from __future__ import annotations

from dataclasses import dataclass

from profiles.errors import Rejected

_LABELS = {"person": "Person", "persons": "Person", "Person": "Person",
           "entity": "Entity", "entities": "Entity", "Entity": "Entity"}


@dataclass(frozen=True)
class SubjectRef:
    label: str  # Person | Entity, the graph's label
    id: str  # pid or eid

    @classmethod
    def of(cls, kind: str, subject_id: str) -> SubjectRef:
        """From the API's `person`/`entity`, a page URL's `persons`/`entities`, or the graph's label."""
        if kind not in _LABELS:
            raise Rejected("subject.type", "person or entity")
        return cls(_LABELS[kind], subject_id)

    @property
    def kind(self) -> str:
        """`person` or `entity`, as the API and the catalog's audiences say it."""
        return self.label.lower()
