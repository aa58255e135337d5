"""pytest plugin shared by every package's tests (loaded from the root conftest)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from portal_tests.infra import Infra, test_infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with test_infra() as running:
        yield running


@pytest.fixture(scope="session")
def infra_env(infra: Infra) -> Iterator[Infra]:
    """Point settings read from the environment at the test infrastructure."""
    mp = pytest.MonkeyPatch()
    mp.setenv("KAFKA_BOOTSTRAP_SERVERS", infra.kafka_bootstrap_servers)
    mp.setenv("MONGODB_URI", infra.mongodb_uri)
    yield infra
    mp.undo()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def mongo_db(infra: Infra, unique: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    db = client[f"test_{unique}"]
    yield db
    await client.drop_database(db.name)
    await client.close()
