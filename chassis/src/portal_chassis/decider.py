"""The decider shape every aggregate follows: pure decide and evolve."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from portal_contracts.base import DomainEvent

C = TypeVar("C")
S = TypeVar("S")
E = TypeVar("E", bound=DomainEvent)


class DomainError(Exception):
    """A command refused by the rules; nothing is stored. `code` is stable for clients."""

    status_code = 422

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    """The caller may not do this (a role or ownership rule), whatever the state."""

    status_code = 403


class BadInput(DomainError):
    """The request cannot be read as asked (a header, an encoding), whatever the state."""

    status_code = 400


class Unauthenticated(DomainError):
    """Who the caller is could not be established (credentials, a token, a sign-in step)."""

    status_code = 401


class TooMany(DomainError):
    """Too many attempts for now; `retry_after` (seconds) says when to try again."""

    status_code = 429


class TooLarge(DomainError):
    status_code = 413


class UnsupportedContent(DomainError):
    """A file or body of a kind this use case does not take."""

    status_code = 415


class Unavailable(DomainError):
    """Another part of the platform did not answer: nothing was done, try again later."""

    status_code = 503


RuleBroken = DomainError
"""A business rule refused the command (422): `raise RuleBroken("amount_exceeds_due", ...)`."""


@dataclass(frozen=True)
class Decider(Generic[C, S, E]):
    """decide(command, state) -> events; evolve(state, event) -> state; plus snapshots.

    `dump_state`/`load_state` turn the state into JSON-safe data for snapshots;
    `state_version` changes whenever the state's shape does, which invalidates them.
    """

    initial_state: S
    decide: Callable[[C, S], Sequence[E]]
    evolve: Callable[[S, E], S]
    dump_state: Callable[[S], dict[str, Any]]
    load_state: Callable[[dict[str, Any]], S]
    state_version: int = 1

    def fold(self, state: S, events: Sequence[E]) -> S:
        for event in events:
            state = self.evolve(state, event)
        return state
