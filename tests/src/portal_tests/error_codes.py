"""Which problem `code`s an operation can answer, read from the code that serves it.

A use case refuses by raising a domain error with a literal code (`raise NotFound(
"invoice_not_found", ...)`); the class gives the status. From a route handler, every
function it calls is followed by name through the service's package and the chassis (a
call graph by name: it may list a code a route never reaches through a shared helper's
name, it does not miss one reached by a direct call). The public OpenAPI lists the codes
found per status, so a front end knows which `code`s to translate for each operation.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from portal_tests.infra import REPO_ROOT

# The chassis' refusals by class (portal_chassis.decider); ProblemError names its status.
STATUS_OF_CLASS = {
    "DomainError": 422,
    "RuleBroken": 422,
    "BadInput": 400,
    "Unauthenticated": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "Conflict": 409,
    "TooLarge": 413,
    "UnsupportedContent": 415,
    "TooMany": 429,
    "Unavailable": 503,
}
CHASSIS = REPO_ROOT / "chassis" / "src"
PATH_PARAM_TYPE = re.compile(r":[^{}]*}")


@dataclass
class Function:
    raises: set[tuple[int, str]] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)


@dataclass
class Index:
    """Every function of some packages by name, with what it raises and calls."""

    functions: dict[str, list[Function]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, int] = field(default_factory=lambda: dict(STATUS_OF_CLASS))
    fixed_codes: dict[str, str] = field(default_factory=dict)
    """Error classes that always carry one code (`super().__init__("code", ...)`)."""
    aliases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    """A function handed over by keyword (`Decider(decide=decide_qr)`): a later call of
    `.decide(...)` may be a call of `decide_qr`."""

    def add_tree(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                self._error_class(node)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions[node.name].append(self.read(node))
            if isinstance(node, ast.Call):  # module level too: `x = Decider(decide=...)`
                for keyword in node.keywords:
                    given = _name(keyword.value)
                    if keyword.arg and given:
                        self.aliases[keyword.arg].add(given)

    def _error_class(self, node: ast.ClassDef) -> None:
        bases = [_name(b) for b in node.bases]
        known = [self.statuses[b] for b in bases if b in self.statuses]
        if not known:
            return
        status = known[0]
        for item in node.body:
            if (
                isinstance(item, ast.Assign)
                and any(_name(t) == "status_code" for t in item.targets)
                and isinstance(item.value, ast.Constant)
            ):
                status = int(str(item.value.value))
        self.statuses[node.name] = status
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and _name(call.func) == "__init__":
                code = _literal(call.args[:1])
                if code:
                    self.fixed_codes[node.name] = code

    def read(self, node: ast.AST) -> Function:
        function = Function()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Raise) and isinstance(sub.exc, ast.Call):
                refusal = self._refusal(sub.exc)
                if refusal:
                    function.raises.add(refusal)
            if isinstance(sub, ast.Call):
                name = _name(sub.func)
                if name:
                    function.calls.add(name)

        return function

    def _refusal(self, call: ast.Call) -> tuple[int, str] | None:
        name = _name(call.func)
        if name == "ProblemError":
            status, code = call.args[:1], _literal(call.args[1:2])
            if status and isinstance(status[0], ast.Constant) and code:
                return int(str(status[0].value)), code
            return None
        if name not in self.statuses:
            return None
        # A class with a code of its own takes its detail first (`WalletUnavailable("...")`).
        code = self.fixed_codes.get(name) or _literal(call.args[:1])
        return (self.statuses[name], code) if code else None

    def reachable(self, start: Function) -> set[tuple[int, str]]:
        seen: set[str] = set()
        found = set(start.raises)
        todo = list(start.calls)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for function in self.functions.get(name, ()):
                found |= function.raises
                todo.extend(function.calls - seen)
            todo.extend(self.aliases.get(name, set()) - seen)
        return found


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(args: Iterable[ast.expr]) -> str | None:
    for arg in args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


@cache
def index_of(*roots: Path) -> Index:
    index = Index()
    files = sorted(p for root in roots for p in root.rglob("*.py"))
    trees = [ast.parse(p.read_text(), str(p)) for p in files]
    for tree in trees:  # error classes first: a module may raise one defined later
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                index._error_class(node)
    for tree in trees:
        index.add_tree(tree)
    return index


def route_codes(app: Any, package_root: Path) -> dict[tuple[str, str], dict[int, set[str]]]:
    """(OpenAPI path, method) -> status -> codes, for every route of a service's app."""
    index = index_of(package_root, CHASSIS)
    answers: dict[tuple[str, str], dict[int, set[str]]] = {}
    for route in app.routes:
        path = _openapi_path(route.path)
        for handler in getattr(route, "route_handlers", []):
            found = _handler_codes(index, handler)
            for method in handler.http_methods:
                codes = answers.setdefault((path, method.lower()), defaultdict(set))
                for status, code in found:
                    codes[status].add(code)
    return answers


def _handler_codes(index: Index, handler: Any) -> set[tuple[int, str]]:
    functions: list[Callable[..., Any]] = [handler.fn]
    for guard in handler.resolve_guards():
        functions.append(getattr(guard, "func", guard))  # Litestar wraps guards
    found: set[tuple[int, str]] = set()
    for fn in functions:
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError):
            continue
        found |= index.reachable(index.read(ast.parse(source)))
    return found


def _openapi_path(path: str) -> str:
    # Litestar's "/v1/x/{x_id:str}" is the OpenAPI "/v1/x/{x_id}".
    return PATH_PARAM_TYPE.sub("}", path)
