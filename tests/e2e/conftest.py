"""Every test here starts from an empty (migrated) graph and an empty Redis."""

import pytest


@pytest.fixture(autouse=True)
def _clean(clean):
    return clean


from tests.e2e.browser import chromium, site  # noqa: E402,F401  (the browser tests' fixtures)
