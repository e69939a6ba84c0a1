"""A Neo4j that cannot be reached reaches the layers above as the domain's Unavailable, raised in one place (the driver
every repository is given), and the REST API's modules import neither neo4j nor redis."""

from __future__ import annotations

import ast
from contextlib import contextmanager
from pathlib import Path

import pytest
from neo4j.exceptions import (
    ClientError,
    ConnectionAcquisitionTimeoutError,
    DriverError,
    ServiceUnavailable,
    SessionExpired,
)

from graph.driver import Driver
from profiles.errors import Unavailable

API = Path(__file__).resolve().parents[2] / "web" / "api"
DOWN = [ServiceUnavailable("no server"), SessionExpired("server went away"),
        ConnectionAcquisitionTimeoutError("no free connection in time")]


class Raising:
    """What the neo4j driver does when the server cannot be reached: `error` from a query, or from inside a session."""

    execute_query_bookmark_manager = None  # the Driver hands the real one to every session it opens

    def __init__(self, error: Exception):
        self.error = error
        self.closed = False

    def execute_query(self, *args, **kwargs):
        raise self.error

    @contextmanager
    def session(self, **config):
        yield self

    def run(self, query: str):
        raise self.error

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("error", DOWN, ids=lambda e: type(e).__name__)
def test_a_query_to_an_unreachable_server_raises_unavailable_neo4j(error):
    with pytest.raises(Unavailable) as raised:
        Driver(Raising(error)).execute_query("RETURN 1", database_="neo4j")
    assert raised.value.which == "neo4j" and raised.value.__cause__ is error
    # graph code that knowingly tolerates any driver failure (the API keys' use stamp) still catches it
    assert isinstance(raised.value, DriverError)


@pytest.mark.parametrize("error", DOWN, ids=lambda e: type(e).__name__)
def test_a_session_losing_its_server_raises_unavailable_neo4j(error):
    with pytest.raises(Unavailable) as raised, Driver(Raising(error)).session(database="neo4j") as session:
        session.run("RETURN 1")
    assert raised.value.which == "neo4j" and raised.value.__cause__ is error


def test_other_errors_pass_unchanged_and_close_reaches_the_driver():
    refused = ClientError("syntax error")
    raw = Raising(refused)
    with pytest.raises(ClientError) as raised:
        Driver(raw).execute_query("RETRUN 1")
    assert raised.value is refused
    with pytest.raises(KeyError), Driver(raw).session() as _session:
        raise KeyError("the caller's own error")
    Driver(raw).close()
    assert raw.closed


def _imported(path: Path) -> set[str]:
    """The top-level names of every module `path` imports, at any depth (an import inside a function still runs)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_api_modules_import_neither_neo4j_nor_redis():
    files = sorted(API.rglob("*.py"))
    assert len(files) > 5, "web/api moved?"
    offending = {str(p.relative_to(API)): sorted(_imported(p) & {"neo4j", "redis"}) for p in files}
    assert {name: found for name, found in offending.items() if found} == {}
