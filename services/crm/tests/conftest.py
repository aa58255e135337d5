"""The CRM's use-case modules bound to one `Deps`, so a test reads `crm.contact(STAFF, id)`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portal_crm import bulk, care, contacts, directory, loyalty, queries
from portal_crm import deps as crm_deps
from portal_crm.deps import Deps
from portal_tests.use_cases import UseCases

MODULES = (contacts, bulk, loyalty, care, directory, queries, crm_deps)


@pytest.fixture
def bind() -> Callable[[Deps], UseCases]:
    return lambda deps: UseCases(deps, MODULES)
