"""MongoStore on a genuine MongoDB: the checks of the SecantusDB tier, when one is at hand.

Set ``MONGODB_URI`` (for example ``mongodb://127.0.0.1:27017/``) to run this
tier; it works in the database ``flask_sessionstore_tests`` and drops every
collection it creates.  Without it the tier is skipped: no genuine ``mongod``
can be installed on the project's machines (see the toolchain notes).
The TTL-sweep and outage tests stay in the SecantusDB tier: a genuine
server's TTL monitor runs only every 60 s, and we do not stop a server we
did not start.
"""

from __future__ import annotations

import os

import pytest

from tests.mongo_checks import WireChecks, WireContract

MONGODB_URI = os.environ.get("MONGODB_URI", "")

pytestmark = [
    pytest.mark.mongodb,
    pytest.mark.skipif(not MONGODB_URI, reason="MONGODB_URI not set: genuine MongoDB tier"),
]


class TestGenuineMongoStoreContract(WireContract):
    @pytest.fixture
    def mongo_uri(self) -> str:
        return MONGODB_URI


class TestGenuineMongoWire(WireChecks):
    @pytest.fixture
    def mongo_uri(self) -> str:
        return MONGODB_URI
