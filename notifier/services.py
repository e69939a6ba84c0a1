"""The one builder: from settings, the Neo4j driver, the Redis connection and the queues, shared by web and worker.

`web.create_app` calls `build` and keeps the result in `app.extensions`; the worker calls the same `build` and installs
the result for its jobs (jobs take ids and reload through `current()`). Nothing here connects: both clients are lazy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import redis
from rq import Queue

from graph.apikeys import ApiKeys
from graph.applications import Applications
from graph.audit import AccessLog
from graph.bulk import Bulk
from graph.console import Console
from graph.driver import Driver, build_driver
from graph.effects import Effects
from graph.enterprise import EnterpriseReads
from graph.holdings import Holdings
from graph.notices import Notices
from graph.officers import Officers
from graph.personal import Personal
from graph.portal import Portal
from graph.preferences import PreferenceStore
from graph.scans import Scans
from graph.snapshots import Snapshots
from graph.subjects import Subjects
from notifier import redis_client
from notifier.email import EmailClient
from notifier.sms import SmsClient
from profiles.audit import AuditKeys
from profiles.catalog import Catalog
from profiles.catalog.loader import load_catalog_once
from profiles.config import ConfigError, Settings
from profiles.privacy import BlindIndex, FieldCipher

# A worker drains them in this order: sign-in codes first (a person is waiting at the screen), then the daily work.
QUEUE_NAMES = ("login", "scan", "deliver", "default")


@dataclass
class Services:
    settings: Settings
    driver: Driver
    redis: redis.Redis
    cipher: FieldCipher
    blind_index: BlindIndex
    catalog: Catalog
    queues: dict[str, Queue] = field(default_factory=dict)

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.driver, self.settings.neo4j_database, self.cipher, self.blind_index)

    @property
    def holdings(self) -> Holdings:
        return Holdings(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def applications(self) -> Applications:
        return Applications(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def snapshots(self) -> Snapshots:
        return Snapshots(self.driver, self.settings.neo4j_database, self.subjects, self.holdings,
                         tuple(c for c, e in self.catalog.events.items() if e.effect == "deceased"))

    @property
    def effects(self) -> Effects:
        """Life events with their effects on the profile (a death, a closure, a hiring), in one transaction."""
        return Effects(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def access_log(self) -> AccessLog:
        return AccessLog(self.driver, self.settings.neo4j_database,
                         AuditKeys(self.settings.audit_keys, self.settings.active_audit_key))

    @property
    def api_keys(self) -> ApiKeys:
        return ApiKeys(self.driver, self.settings.neo4j_database)

    @property
    def notices(self) -> Notices:
        return Notices(self.driver, self.settings.neo4j_database)

    @property
    def scans(self) -> Scans:
        return Scans(self.driver, self.settings.neo4j_database)

    @property
    def preferences(self) -> PreferenceStore:
        return PreferenceStore(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def officers(self) -> Officers:
        return Officers(self.driver, self.settings.neo4j_database)

    @property
    def portal(self) -> Portal:
        return Portal(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def console(self) -> Console:
        return Console(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def enterprise_reads(self) -> EnterpriseReads:
        return EnterpriseReads(self.driver, self.settings.neo4j_database, self.cipher)

    @property
    def personal(self) -> Personal:
        return Personal(self.driver, self.settings.neo4j_database)

    @property
    def bulk(self) -> Bulk:
        """Batch writes (import, demo seed), checked against the loaded catalog's material kinds."""
        return Bulk(self.driver, self.settings.neo4j_database, self.cipher, self.blind_index, self.catalog.materials,
                    self.catalog.events)

    @cached_property
    def sms(self) -> SmsClient:
        """Twilio through the official client; pointed at the local sandbox unless real TWILIO_* are configured."""
        s = self.settings
        return SmsClient(s.twilio_account_sid, s.twilio_auth_token, s.twilio_from, base_url=s.twilio_api_base_url)

    @cached_property
    def mail(self) -> EmailClient:
        s = self.settings
        return EmailClient(s.smtp_host, s.smtp_port, s.mail_from, user=s.smtp_user, password=s.smtp_password,
                           starttls=s.smtp_starttls)

    def now(self, at: str | None = None) -> datetime:
        """The jobs' clock: `at` (ISO, from a test or a replay, handed from job to job) or now, in LIFECYCLE_TZ."""
        zone = self.settings.zone
        return datetime.fromisoformat(at).astimezone(zone) if at else datetime.now(zone)

    def close(self) -> None:
        self.driver.close()
        self.redis.close()


def build(settings: Settings, *, for_worker: bool = False) -> Services:
    """Build every client from `settings`.

    Web requests must never hang on Redis, so their connection has short socket timeouts; the worker's blocks on
    BLMOVE for minutes by design, so it gets none (RQ manages its own dequeue timeout), and it waits out a Sentinel
    failover instead of failing (notifier.redis_client).
    """
    if not settings.data_keys:
        raise ConfigError("LIFECYCLE_DATA_KEYS", "personal data is stored encrypted: configure at least one key")
    if not settings.index_key:
        raise ConfigError("LIFECYCLE_INDEX_KEY", "ID-number lookups need a blind-index key")
    if not settings.audit_keys:
        raise ConfigError("LIFECYCLE_AUDIT_KEYS", "the access log is signed: configure at least one key")
    connection = redis_client.client(settings, for_worker=for_worker)
    queues = {name: Queue(name, connection=connection) for name in QUEUE_NAMES}
    return Services(settings=settings, driver=build_driver(settings), redis=connection, queues=queues,
                    cipher=FieldCipher(settings.data_keys, settings.active_data_key),
                    blind_index=BlindIndex(settings.index_key),
                    catalog=load_catalog_once(settings.catalog_dir))  # a broken catalog stops the start, by design


_current: Services | None = None


def install(services: Services) -> None:
    """Make `services` what jobs in this process use (called once by the worker's entry point)."""
    global _current
    _current = services


def current() -> Services:
    if _current is None:
        raise RuntimeError("no services installed: jobs run inside the worker (python -m notifier.worker)")
    return _current
