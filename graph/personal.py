"""What the citizen's own page needs beyond the repositories: lifting their SMS opt-out when they say so."""

from __future__ import annotations

from datetime import datetime

import neo4j

from graph.driver import utc


class Personal:
    def __init__(self, driver: neo4j.Driver, database: str):
        self.driver, self.database = driver, database

    def _read(self, query: str, **params) -> list[neo4j.Record]:
        return self.driver.execute_query(query, params, database_=self.database,
                                         routing_=neo4j.RoutingControl.READ)[0]

    def lift_sms_opt_out(self, pid: str, now: datetime) -> None:
        """The person unticked "no SMS" on their page: SMS may come again if it is among their channels. The
        time is kept beside the opt-out's own, so both choices can be traced."""
        self.driver.execute_query(
            "MATCH (p:Person {pid: $pid}) WHERE p.sms_opted_out "
            "SET p.sms_opted_out = false, p.sms_opt_out_lifted_at = $now",
            pid=pid, now=utc(now), database_=self.database)
