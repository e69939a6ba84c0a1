"""What the enterprise page reads beyond the repositories: the reminders about one business, whoever they were
addressed to, and the (decrypted) names of the people linked to it."""

from __future__ import annotations

import neo4j

from graph.notices import NOTICE_FIELDS, notice_from
from profiles.notices import DECISION_KINDS, Notice
from profiles.privacy import FieldCipher

# Reminders about a business go to its legal representatives (or to the business itself when it has none); each
# one is ABOUT the draft the business APPLIED for. Every path starts at the business's unique key, so the read is an
# index seek and a few hops, never a scan of all notices by subject_id (which has no index). Officers' yellow and
# red cards are about the business's applications too, but they are the departments' business, not its own.
# What a business reads about itself: reminders, and the decisions on its applications (not the officers' cards).
BUSINESS_NOTICE_KINDS = ("reminder", *DECISION_KINDS.values())
_ABOUT_BUSINESS = (
    "MATCH (e:Entity {eid: $eid}) "
    "CALL (e) { "
    "  MATCH (e)<-[:TO]-(n:Notice) RETURN n "
    "  UNION "
    "  MATCH (e)<-[:LEGAL_REP_OF]-(:Person)<-[:TO]-(n:Notice) RETURN n "
    "  UNION "
    "  MATCH (e)-[:APPLIED]->(:Application)<-[:ABOUT]-(n:Notice) RETURN n "
    "} "
    "WITH n WHERE n.subject_id = $eid AND n.kind IN $kinds "
    "MATCH (n)-[:TO]->(r) "
)


class EnterpriseReads:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]

    def notices_about(self, eid: str, limit: int = 200) -> list[Notice]:
        """Reminders and decisions whose subject is this business, to any recipient, newest first."""
        records = self._read(_ABOUT_BUSINESS + f"RETURN {NOTICE_FIELDS} ORDER BY n.created_at DESC, n.nid LIMIT $limit",
                             eid=eid, limit=limit, kinds=list(BUSINESS_NOTICE_KINDS))
        return [notice_from(r["n"]) for r in records]

    def person_names(self, pids: list[str]) -> dict[str, str]:
        """pid -> name for these people (names are stored encrypted; the ID numbers are not read at all)."""
        if not pids:
            return {}
        records = self._read("UNWIND $pids AS pid MATCH (p:Person {pid: pid}) RETURN p.pid AS pid, p.name_enc AS n",
                             pids=sorted(set(pids)))
        return {r["pid"]: self.cipher.decrypt(r["n"], context="Person.name") for r in records if r["n"]}
