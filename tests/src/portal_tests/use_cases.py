"""Tests of a service's use-case modules (plain functions taking the service's `Deps` first).

- `UseCases(deps, modules)`: the modules bound to one `Deps`, so a test reads
  `crm.contact(STAFF, id)`; other names fall through to the deps (`crm.store`), and so
  does setting one (`billing.wallet = late_wallet`).
- `record_use_cases(monkeypatch, modules)`: every use case replaced by one mock that
  records its arguments after the deps, for tests of the HTTP boundary alone.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from types import ModuleType
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest


class UseCases:
    def __init__(self, deps: Any, modules: Sequence[ModuleType]) -> None:
        object.__setattr__(self, "deps", deps)
        object.__setattr__(self, "modules", tuple(modules))

    def __getattr__(self, name: str) -> Any:
        # Looked up at call time, so a use case a test patched is the one that runs.
        for module in self.modules:
            found = getattr(module, name, None)
            if callable(found) and getattr(found, "__module__", None) == module.__name__:
                return functools.partial(found, self.deps)
        if name.startswith("_") and not name.startswith("__"):
            # a helper the test reached as a private method of the old service class
            return getattr(self, name.lstrip("_"))
        return getattr(self.deps, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.deps, name, value)


def _use_cases(module: ModuleType) -> list[str]:
    return [
        name
        for name, fn in vars(module).items()
        if not name.startswith("_")
        and inspect.iscoroutinefunction(fn)
        and fn.__module__ == module.__name__
    ]


def record_use_cases(monkeypatch: pytest.MonkeyPatch, modules: Sequence[ModuleType]) -> Any:
    recorder = MagicMock()
    for module in modules:
        for name in _use_cases(module):
            recorded = AsyncMock()
            setattr(recorder, name, recorded)

            async def forward(deps: Any, *args: Any, _mock: Any = recorded, **kw: Any) -> Any:
                return await _mock(*args, **kw)

            monkeypatch.setattr(module, name, forward)
    return recorder
