"""Fixtures of the page tests (`sandbox`, `app`, `svc`), imported by each page-test module: the SMS sandbox (one
per module) and an app wired to it on the session's Neo4j and Redis, emptied before each test."""

from __future__ import annotations

import pytest

from notifier.sandbox import Sandbox
from tests.integration.pages_helpers import SID, TOKEN, pages_app


@pytest.fixture(scope="module", name="sandbox")
def pages_sandbox():
    box = Sandbox("127.0.0.1", 0, SID, TOKEN, callback_delay_ms=0).start()
    yield box
    box.stop()


@pytest.fixture(name="app")
def pages_site(live_environ, sandbox, clean):
    sandbox.clear()
    app = pages_app(live_environ, sandbox.url)
    yield app
    app.extensions["lifecycle"].close()


@pytest.fixture(name="svc")
def pages_services(app):
    return app.extensions["lifecycle"]
