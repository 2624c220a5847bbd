"""A live OData server on loopback over a copy of the small test edition (tests/conftest.py's
`refreshed`): the copy lets tests republish without touching the session's exports."""

from __future__ import annotations

import pytest
from odata_helpers import copy_exports, start_server, stop_server


@pytest.fixture(scope="session")
def served(refreshed, tmp_path_factory):
    exports = copy_exports(refreshed.exports, tmp_path_factory.mktemp("odata") / "exports")
    running = start_server(exports)
    yield running
    stop_server(running)
