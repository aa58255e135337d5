"""`portal`: the operator command line (typer + rich).

Every command reads the same environment as the services (KAFKA_BOOTSTRAP_SERVERS,
MONGODB_URI, `<SERVICE>_MONGODB_DATABASE`, Kafka security variables), so it works
against `make dev` and against a cluster alike. Exit codes: 0 fine, 1 a problem found
(a difference, a missing stream or message), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from portal_cli import config, dlq, kafka, money, projections

T = TypeVar("T")

app = typer.Typer(help="Operate the customer portal platform.", no_args_is_help=True)
projections_app = typer.Typer(help="Projections (read models): status and rebuild.")
dlq_app = typer.Typer(help="Dead-letter queues: list, show, redrive.")
events_app = typer.Typer(help="Follow the event topics.")
stream_app = typer.Typer(help="One aggregate's stored events.")
money_app = typer.Typer(help="Money checks.")
seed_app = typer.Typer(help="Demo data.")
admin_app = typer.Typer(help="Platform administrators.")
for sub, name in (
    (projections_app, "projections"),
    (dlq_app, "dlq"),
    (events_app, "events"),
    (stream_app, "stream"),
    (money_app, "money"),
    (seed_app, "seed"),
    (admin_app, "admin"),
):
    app.add_typer(sub, name=name, no_args_is_help=True)


def console() -> Console:
    # Created per command so output goes to the stdout of the moment (tests capture it).
    return Console(highlight=False)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True, highlight=False).print(f"[red]{message}[/red]")
    return typer.Exit(code)


# ------------------------------------------------------------------ projections


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f} s"


def _print_status(out: Console, status: projections.Status) -> None:
    doc = status.document
    out.print(
        f"[bold]{status.projection.name}[/bold] ({status.projection.service}) "
        f"group {status.group_id}: applied {doc.get('applied', 0)} events, the newest "
        f"{_seconds(doc.get('lag_seconds'))} old when applied "
        f"(event time {doc.get('last_event_time', '-')}); lag {status.lag} events",
        soft_wrap=True,
    )
    table = Table()
    for column in ("topic", "partition", "position", "end", "lag"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for p in status.partitions:
        table.add_row(
            p.topic,
            str(p.partition),
            "-" if p.position is None else str(p.position),
            str(p.end),
            Text(str(p.lag), style="green" if p.lag == 0 else "yellow"),
        )
    table.add_row("total", "", "", "", Text(str(status.lag), style="bold"))
    out.print(table)


@projections_app.command("status")
def projections_status(
    name: Annotated[str | None, typer.Argument(help="One projection (default: all)")] = None,
) -> None:
    """Each projection's position and lag per partition."""
    known = projections.known()
    if name is not None and name not in known:
        raise fail(f"no projection {name!r}; known: {', '.join(known)}", 2)
    out = console()

    async def go() -> None:
        async with config.mongo() as mongo:
            for projection in known.values():
                if name in (None, projection.name):
                    db = mongo.service(projection.service)
                    _print_status(out, await projections.status(db, projection))

    run(go())


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.elapsed:
            speed = task.completed / task.elapsed
        return Text(f"{speed or 0:,.0f} events/s")


class _Bar(projections.Progress):
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("replaying", total=None)

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total, completed=0)

    def advance(self, done: int, total: int) -> None:
        self.progress.update(self.task, total=total, completed=done)


@projections_app.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="The projection, e.g. gateway-dashboard")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask")] = False,
    claim_timeout: Annotated[
        float, typer.Option(help="Seconds a running projector has to pick the rebuild up")
    ] = 60.0,
) -> None:
    """Rebuild beside the live read models from offset 0, then switch readers over.

    Readers keep the old read models (still updated) until the new ones have caught up.
    A running projector does the work; with none running it is done here. Either way the
    progress is shown until the switch.
    """
    known = projections.known()
    projection = known.get(name)
    if projection is None:
        raise fail(f"no projection {name!r}; known: {', '.join(known)}", 2)
    if projection.rebuild is None:
        raise fail(f"{name} has no rebuild mechanism (only: {_rebuildable(known)})", 2)
    out = console()

    async def go() -> projections.Status:
        async with config.mongo() as mongo:
            db = mongo.service(projection.service)
            members = await kafka.active_members(await projections.group_of(db, projection))
            where = f"by the running {projection.service} projector" if members else "here"
            out.print(f"rebuilding beside the live read models ({where})")
            columns = (
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                RateColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=out) as progress:
                try:
                    names = await projections.rebuild(
                        db,
                        projection,
                        _Bar(progress),
                        run_here=not members,
                        claim_timeout=claim_timeout,
                    )
                except projections.RebuildRefused as exc:
                    raise fail(str(exc)) from exc
            out.print(f"readers switched to [bold]{', '.join(names.values())}[/bold]")
            return await projections.status(db, projection)

    if not yes:
        typer.confirm(f"Rebuild {name} from offset 0 beside the live read models?", abort=True)
    final = run(go())
    _print_status(out, final)


def _rebuildable(known: dict[str, projections.Projection]) -> str:
    return ", ".join(p.name for p in known.values() if p.rebuild is not None)


# ------------------------------------------------------------------ dead letters


def _find(letters: list[dlq.DeadLetter], ids: list[str]) -> list[dlq.DeadLetter]:
    chosen = [d for d in letters if any(d.matches(i) for i in ids)]
    missing = [i for i in ids if not any(d.matches(i) for d in letters)]
    if missing:
        raise fail(f"not on the DLQ: {', '.join(missing)}")
    return chosen


@dlq_app.command("list")
def dlq_list(
    topic: Annotated[str, typer.Argument(help="e.g. wallet.events (or its .dlq)")],
) -> None:
    """Every dead letter of a topic, with its error and whether it was redriven."""
    out = console()

    async def go() -> None:
        letters = await dlq.read_all(topic)
        async with config.mongo() as mongo:
            done = await dlq.redrives(mongo.ops(), letters)
        table = Table(title=f"{dlq.dlq_name(topic)}: {len(letters)} message(s)")
        for column in ("id", "at", "p:offset", "type", "group", "error", "redriven"):
            table.add_column(column)
        for d in letters:
            h = d.headers
            error = (h.get("dlq_error") or "").strip().splitlines()
            mark = done.get(d.key)
            table.add_row(
                d.id,
                kafka.record_time(d.record).strftime("%Y-%m-%d %H:%M:%S"),
                d.position,
                h.get("ce_type", "?"),
                h.get("dlq_group", "?"),
                error[-1][:80] if error else "",
                f"{mark['actor']} ({mark['status']})" if mark else "",
            )
        out.print(table)

    run(go())


@dlq_app.command("show")
def dlq_show(
    topic: str,
    id: Annotated[str, typer.Option("--id", help="Event id or partition:offset")],
) -> None:
    """One dead letter: headers, the full error and the event."""
    out = console()

    async def go() -> None:
        letters = _find(await dlq.read_all(topic), [id])
        async with config.mongo() as mongo:
            done = await dlq.redrives(mongo.ops(), letters)
        for d in letters:
            table = Table(title=f"{d.record.topic} {d.position} key {d.record.key!r}")
            table.add_column("header")
            table.add_column("value")
            for k, v in d.headers.items():
                if k != "dlq_error":
                    table.add_row(k, v)
            out.print(table)
            out.print(Text("error:", style="bold"))
            out.print(Text(d.headers.get("dlq_error", "")))
            out.print(Text("value:", style="bold"))
            try:
                out.print_json(json.dumps(json.loads(d.record.value or b"")))
            except ValueError:
                out.print(Text(repr(d.record.value)))
            mark = done.get(d.key)
            if mark:
                out.print(f"redriven by {mark['actor']} at {mark['claimed_at']} ({mark['status']})")

    run(go())


@dlq_app.command("redrive")
def dlq_redrive(
    topic: str,
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="Event id or partition:offset (repeatable)")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="Recorded as who redrove it (default: the OS user)")
    ] = None,
) -> None:
    """Publish dead letters again to their original topic (each one at most once)."""
    out = console()
    who = actor or config.operator()

    async def go() -> list[dlq.Redriven]:
        letters = await dlq.read_all(topic)
        if ids:
            letters = _find(letters, ids)
        async with config.mongo() as mongo:
            return await dlq.redrive(mongo.ops(), letters, who)

    results = run(go())
    for r in results:
        style = "green" if r.done else "yellow"
        out.print(Text(f"{r.letter.id} ({r.letter.position}): {r.note}", style=style))
    sent = sum(r.done for r in results)
    out.print(f"{sent} redriven, {len(results) - sent} skipped, by {who}")


# ------------------------------------------------------------------ events and streams


@events_app.command("tail")
def events_tail(
    topic: Annotated[str, typer.Argument(help="e.g. wallet.events")],
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="Only these event types (repeatable)")
    ] = None,
    from_beginning: Annotated[bool, typer.Option(help="Start at offset 0")] = False,
    limit: Annotated[int, typer.Option(help="Stop after this many events (0: no limit)")] = 0,
    follow: Annotated[bool, typer.Option(help="Wait for new events at the end")] = True,
) -> None:
    """One line per event: time, type, stream key, summary."""
    out = console()

    async def go() -> int:
        shown = 0
        async with kafka.consumer() as client:
            tps = await kafka.partitions(client, [topic])
            if not tps:
                raise fail(f"no topic {topic!r}")
            client.assign(tps)
            if from_beginning:
                await client.seek_to_beginning(*tps)
            else:
                await client.seek_to_end(*tps)
            ends = await client.end_offsets(tps)
            while True:
                batch = await client.getmany(timeout_ms=500, max_records=200)
                records = sorted(
                    (r for rs in batch.values() for r in rs), key=lambda r: r.timestamp
                )
                for record in records:
                    decoded = kafka.decode(record)
                    kind = decoded.envelope.type if decoded.envelope else "?"
                    if type_ and kind not in type_:
                        continue
                    out.print(_line(record, decoded), soft_wrap=True)
                    shown += 1
                    if limit and shown >= limit:
                        return shown
                if not follow and all([await client.position(tp) >= ends[tp] for tp in tps]):
                    return shown

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a follow
        run(go())


def _line(record: Any, decoded: kafka.Decoded) -> Text:
    line = Text()
    if decoded.envelope is None:
        line.append(kafka.record_time(record).isoformat(timespec="seconds"), style="dim")
        line.append(f"  (not an event: {decoded.error})", style="red")
        return line
    envelope = decoded.envelope
    line.append(envelope.time.isoformat(timespec="seconds"), style="dim")
    line.append(f"  {envelope.type:<26}", style="bold cyan")
    line.append(f" {envelope.subject}@{envelope.streamversion}  ", style="magenta")
    if decoded.event is None:
        line.append(f"(undecoded: {decoded.error})", style="yellow")
    else:
        line.append(kafka.summary(decoded.event.model_dump(mode="json")))
    return line


@stream_app.command("show")
def stream_show(
    service: Annotated[str, typer.Argument(help=f"One of {', '.join(config.SERVICES)}")],
    stream_id: Annotated[str, typer.Argument(help="e.g. wallet-<account id>")],
    full: Annotated[bool, typer.Option("--json", help="Print each event's data in full")] = False,
) -> None:
    """The stored events of one aggregate, with their versions, decoded."""
    from portal_chassis.eventstore import EventStore

    if service not in config.SERVICES:
        raise fail(f"no service {service!r}; one of {', '.join(config.SERVICES)}", 2)
    out = console()

    async def go() -> list[Any]:
        async with config.mongo() as mongo:
            return await EventStore(mongo.service(service)).read_stream(stream_id)

    events = run(go())
    if not events:
        raise fail(f"no stream {stream_id!r} in {config.database_name(service)}")
    table = Table(title=f"{service}: {stream_id} ({len(events)} events)")
    for column in ("v", "type", "occurred at", "summary", "event id"):
        table.add_column(column, overflow="fold")
    for stored in events:
        data = stored.event.model_dump(mode="json")
        table.add_row(
            str(stored.version),
            stored.event.event_type,
            str(data.get("occurred_at", "")),
            kafka.summary(data, 70),
            stored.event_id,
        )
    out.print(table)
    if full:
        for stored in events:
            out.print(f"v{stored.version} {stored.event.event_type}")
            out.print_json(json.dumps(stored.event.model_dump(mode="json")))


# ------------------------------------------------------------------ money


@money_app.command("reconcile")
def money_reconcile(
    wait: Annotated[
        float,
        typer.Option(help="Seconds to keep checking while read models catch up (0: once)"),
    ] = 0.0,
    accounts: Annotated[
        list[str] | None,
        typer.Option("--account", help="Check only these accounts (repeatable; default all)"),
    ] = None,
) -> None:
    """Wallets = ledgers, billing payments = wallet debits, dashboards = wallets."""
    out = console()

    async def go() -> money.Books:
        async with config.mongo() as mongo:
            return await money.reconcile(
                mongo.service("wallet"),
                mongo.service("billing"),
                mongo.service("gateway"),
                frozenset(accounts or ()),
            )

    deadline = time.monotonic() + wait
    books = run(go())
    while books.differences and time.monotonic() < deadline:
        time.sleep(1.0)
        books = run(go())
    checked = (
        f"{len(books.wallets)} wallets, {len(books.debits)} invoice debits, "
        f"{len(books.payments)} billing payments, {len(books.dashboards)} dashboards"
    )
    if not books.differences:
        out.print(f"[green]money reconciles[/green]: {checked}")
        return
    table = Table(title=f"{len(books.differences)} difference(s)", caption=checked)
    for column in ("check", "subject", "expected", "found", "detail"):
        table.add_column(column, overflow="fold")
    for d in books.differences:
        table.add_row(d.check, d.subject, d.expected, d.found, d.detail)
    out.print(table)
    raise typer.Exit(1)


# ------------------------------------------------------------------ seeding and admins


@seed_app.command("demo")
def seed_demo(
    url: Annotated[
        str, typer.Option(envvar="PORTAL_URL", help="The gateway")
    ] = f"http://127.0.0.1:{os.environ.get('PORTAL_PORT', '8000')}",
    secret: Annotated[
        str, typer.Option(envvar="PAYMENTS_SANDBOX_SECRET", help="The sandbox webhook secret")
    ] = "sandbox-secret",
) -> None:
    """The demo customer, a paid top-up and a subscription, as `make dev` seeds them."""
    from portal_cli.demo import SeedError
    from portal_cli.demo import seed_demo as seed

    try:
        seeded = seed(url, secret)
    except SeedError as exc:
        raise fail(str(exc)) from None
    out = console()
    out.print(f"demo customer {seeded.email} / {seeded.password}, balance {seeded.balance}")
    out.print(f"access token (15 min): {seeded.access_token}", soft_wrap=True)


@admin_app.command("create")
def admin_create(
    email: str,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for if not given"
        ),
    ],
    name: Annotated[str, typer.Option(help="Display name")] = "Platform admin",
    actor: Annotated[str | None, typer.Option(help="Recorded as who created it")] = None,
) -> None:
    """A platform admin (the first one as identity seeds it, later ones as staff)."""
    from portal_chassis.decider import DomainError
    from portal_cli.demo import SeedError, create_admin

    try:
        created = run(create_admin(email, password, name, actor or config.operator()))
    except (SeedError, DomainError) as exc:
        raise fail(str(exc)) from None
    console().print(f"platform admin {created['email']} created ({created['created']})")
