"""A record of the transactions a driver opens: each one's access mode (READ or WRITE), the type of every query it ran
(the server's summary: 'r', 'rw', 'w', 's') and the code that opened it. Off unless turned on (a test, a probe), so a
cluster's secondaries can be shown to get every pure read."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import neo4j

_ROOT = Path(__file__).resolve().parent.parent
_HERE = {str(Path(__file__).resolve()), str(Path(__file__).resolve().with_name("driver.py"))}
_GRAPH = str(_ROOT / "graph")


@dataclass(frozen=True)
class Transaction:
    mode: str  # "READ" or "WRITE": where a cluster routes it (a secondary, or the leader)
    query_types: tuple[str, ...]
    how: str  # "execute_query", "execute_read", "execute_write" or "auto-commit"
    origin: str  # the repository line that opened it, then the first caller outside graph/

    @property
    def pure_read(self) -> bool:
        return bool(self.query_types) and all(kind == "r" for kind in self.query_types)

    def __str__(self) -> str:
        return f"{self.mode} {self.how} {list(self.query_types)} at {self.origin}"


class TransactionLog:
    """Transactions in the order they ended, from every thread of the process."""

    def __init__(self) -> None:
        self.transactions: list[Transaction] = []
        self._lock = threading.Lock()

    def add(self, mode: str, query_types: list[str], how: str) -> None:
        entry = Transaction(mode, tuple(query_types), how, _origin())
        with self._lock:
            self.transactions.append(entry)

    def pure_reads_in_write(self) -> list[Transaction]:
        """What a cluster sends to its leader although a secondary could answer it."""
        return [t for t in self.transactions if t.mode == "WRITE" and t.pure_read]


def mode_of(access: str | neo4j.RoutingControl | None) -> str:
    """The access mode a session's `default_access_mode` or `execute_query`'s `routing_` asks for; the driver's
    default for both is WRITE."""
    if access in (neo4j.READ_ACCESS, neo4j.RoutingControl.READ, "r"):
        return "READ"
    return "WRITE"


def query_type(result: neo4j.Result) -> str:
    try:
        return result.consume().query_type or "?"
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError):
        return "?"  # a failed query: its transaction is not a pure read we could route elsewhere


class WatchedTransaction:
    """A managed transaction that remembers the results of its queries, so their types can be read when it ends."""

    def __init__(self, tx: neo4j.ManagedTransaction):
        self._tx = tx
        self.results: list[neo4j.Result] = []

    def run(self, query, parameters=None, **kwparameters) -> neo4j.Result:
        result = self._tx.run(query, parameters, **kwparameters)
        self.results.append(result)
        return result

    def __getattr__(self, name: str):
        return getattr(self._tx, name)


class WatchedSession:
    """A session whose transaction functions and auto-commit queries are added to a log when they succeed."""

    def __init__(self, session: neo4j.Session, log: TransactionLog, default_mode: str):
        self._session = session
        self._log = log
        self._mode = default_mode
        self._auto: list[neo4j.Result] = []

    def _watched(self, work, mode: str, how: str):
        def run(tx, *args, **kwargs):
            watched = WatchedTransaction(tx)
            value = work(watched, *args, **kwargs)
            # still inside the transaction: the results are in scope, and reading the rest of one changes nothing
            self._log.add(mode, [query_type(r) for r in watched.results], how)
            return value
        return run

    def execute_read(self, work, *args, **kwargs):
        return self._session.execute_read(self._watched(work, "READ", "execute_read"), *args, **kwargs)

    def execute_write(self, work, *args, **kwargs):
        return self._session.execute_write(self._watched(work, "WRITE", "execute_write"), *args, **kwargs)

    def run(self, query, parameters=None, **kwargs) -> neo4j.Result:
        self.flush()  # the session buffers the previous auto-commit result before it runs the next one
        result = self._session.run(query, parameters, **kwargs)
        self._auto.append(result)
        return result

    def flush(self) -> None:
        for result in self._auto:
            self._log.add(self._mode, [query_type(result)], "auto-commit")
        self._auto = []

    def __getattr__(self, name: str):
        return getattr(self._session, name)


def _origin() -> str:
    """`graph/notices.py:204 claim < notifier/delivery.py:88 deliver`: the innermost graph/ frame outside the driver,
    and the innermost frame outside graph/ that led to it."""
    found: list[str] = []
    frame = sys._getframe(1)
    in_graph = None
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(str(_ROOT)) and path not in _HERE and "site-packages" not in path:
            where = f"{Path(path).relative_to(_ROOT)}:{frame.f_lineno} {frame.f_code.co_name}"
            if path.startswith(_GRAPH):
                in_graph = in_graph or where
            elif in_graph is not None or not found:
                found.append(where)
                break
        frame = frame.f_back
    return " < ".join([w for w in (in_graph, *found) if w]) or "?"
