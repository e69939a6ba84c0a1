"""How each person wants to be reached: push channels in order, language, quiet hours, the SMS opt-out; and contacts.

Stored on the Person node (`pref_*` properties); a person who never chose gets `profiles.notices.Preferences()`:
SMS then e-mail, zh-CN, the service's quiet hours. Contacts decrypt the phone and e-mail only for delivery.
"""

from __future__ import annotations

from datetime import datetime

import neo4j

from graph.driver import utc
from profiles.errors import NotFound
from profiles.notices import PUSH_CHANNELS, Contact, Preferences
from profiles.privacy import FieldCipher


class PreferenceStore:
    def __init__(self, driver: neo4j.Driver, database: str, cipher: FieldCipher):
        self.driver, self.database, self.cipher = driver, database, cipher

    def get(self, pid: str) -> Preferences:
        records = self._read("MATCH (p:Person {pid: $pid}) RETURN p {.pref_channels, .pref_language, "
                             ".pref_quiet_hours, .sms_opted_out} AS p", pid=pid)
        if not records:
            raise NotFound("person", pid)
        return _preferences(records[0]["p"])

    def set(self, pid: str, prefs: Preferences, now: datetime) -> Preferences:
        """Replace the person's choices. Choosing SMS again lifts an opt-out: the person has said so themselves."""
        records, _, _ = self.driver.execute_query(
            "MATCH (p:Person {pid: $pid}) SET p.pref_channels = $channels, p.pref_language = $language, "
            "p.pref_quiet_hours = $quiet, p.prefs_updated_at = $now, "
            "p.sms_opted_out = CASE WHEN 'sms' IN $channels THEN false ELSE coalesce(p.sms_opted_out, false) END "
            "RETURN p {.pref_channels, .pref_language, .pref_quiet_hours, .sms_opted_out} AS p",
            pid=pid, channels=list(prefs.channels), language=prefs.language, quiet=prefs.quiet_hours, now=utc(now),
            database_=self.database)
        if not records:
            raise NotFound("person", pid)
        return _preferences(records[0]["p"])

    def opt_out_sms(self, pid: str, reason: str, now: datetime) -> None:
        """The carrier says the number unsubscribed (Twilio 21610): no SMS until the person chooses SMS again."""
        self.driver.execute_query(
            "MATCH (p:Person {pid: $pid}) SET p.sms_opted_out = true, p.sms_opted_out_at = $now, "
            "p.sms_opt_out_reason = $reason", pid=pid, now=utc(now), reason=reason, database_=self.database)

    def reach(self, pids: list[str]) -> dict[str, tuple[bool, bool, Preferences]]:
        """Per person: (has a phone, has an e-mail, preferences), without decrypting anything (for the scan)."""
        records = self._read(
            "UNWIND $pids AS pid MATCH (p:Person {pid: pid}) RETURN pid, p.phone_enc IS NOT NULL AS phone, "
            "p.email_enc IS NOT NULL AS email, p {.pref_channels, .pref_language, .pref_quiet_hours, "
            ".sms_opted_out} AS p", pids=sorted(set(pids)))
        return {r["pid"]: (r["phone"], r["email"], _preferences(r["p"])) for r in records}

    def contacts(self, pids: list[str]) -> dict[str, Contact]:
        """Decrypted phone and e-mail with preferences, for delivery only (never logged)."""
        records = self._read(
            "UNWIND $pids AS pid MATCH (p:Person {pid: pid}) RETURN pid, p.phone_enc AS phone, p.email_enc AS email, "
            "p {.pref_channels, .pref_language, .pref_quiet_hours, .sms_opted_out} AS p", pids=sorted(set(pids)))
        c = self.cipher
        return {r["pid"]: Contact(r["pid"], c.decrypt_optional(r["phone"], context="Person.phone"),
                                  c.decrypt_optional(r["email"], context="Person.email"), _preferences(r["p"]))
                for r in records}

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]


def _preferences(p: dict) -> Preferences:
    channels = p.get("pref_channels")
    return Preferences(
        channels=tuple(channels) if channels is not None else PUSH_CHANNELS,
        language=p.get("pref_language") or "zh-CN",
        quiet_hours=p.get("pref_quiet_hours"),
        sms_opted_out=bool(p.get("sms_opted_out")),
    )
