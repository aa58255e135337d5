"""Top-up benchmark: the whole pipeline beside raw Kafka and raw MongoDB-wire baselines.

One run, one infrastructure:

1. Kafka + FerretDB: KAFKA_BOOTSTRAP_SERVERS and MONGODB_URI when both are set, otherwise a
   private, freshly wiped instance started with deploy/local/infra.sh on ports 29092/29093
   (Kafka) and 27019 (FerretDB) under .cache/local-infra/bench.
2. The platform (wallet, gateway, dashboard projector) on ports 28000/28101/28190.
3. Ours: N top-ups through the public gateway -- POST /api/v1/wallet/top-ups, then the signed
   sandbox webhook -- timed from sending the webhook (the command) until the public
   GET /api/v1/dashboard shows the new balance. One watcher polls the gateway's dashboards
   collection for every in-flight account at once; when it sees the balance, the waiter
   confirms through the public dashboard and the latency ends when that GET returns.
4. Raw aiokafka: the very envelopes our run published, produced (idempotent, acks=all) to a
   fresh topic and consumed from the earliest offset.
5. Raw PyMongo: the very commit documents our run appended, inserted with insert_one into a
   fresh collection carrying the event store's unique (stream_id, first_version) index.

Timings are reported, never asserted. Run: `uv run python -m portal_bench.topup [--count N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from portal_chassis.eventstore import COMMITS, _commit_from_doc
from portal_chassis.relay import envelope_for
from portal_tests.infra import INFRA_SCRIPT, REPO_ROOT
from portal_tests.platform import RunningPlatform, platform_env, platform_processes, specs
from portal_wallet.domain import stream_id
from portal_wallet.payments import sign

try:  # rich comes with litestar; plain text if it ever goes away
    from rich.console import Console
    from rich.table import Table
except ImportError:  # pragma: no cover
    Console = None  # type: ignore[assignment,misc]
    Table = None  # type: ignore[assignment,misc]

BASE_PORT = int(os.environ.get("PORTAL_BENCH_BASE_PORT", "28000"))
"""Gateway 28000, wallet 28101, projector 28190: clear of tests (18xxx) and `make dev`.
Several people on one machine each give the bench ports of their own (PORTAL_BENCH_*)."""
KAFKA_PORT = int(os.environ.get("PORTAL_BENCH_KAFKA_PORT", "29092"))
KAFKA_CONTROLLER_PORT = KAFKA_PORT + 1
FERRETDB_PORT = int(os.environ.get("PORTAL_BENCH_FERRETDB_PORT", "27019"))
INFRA_DIR = Path(
    os.environ.get("PORTAL_BENCH_INFRA_DIR", REPO_ROOT / ".cache" / "local-infra" / "bench")
)
LOG_DIR = REPO_ROOT / ".cache" / "bench-logs"
SANDBOX_SECRET = "bench-sandbox-secret"
AMOUNT = 100_000
WALLET_SOURCE = "/portal/wallet"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Result:
    name: str
    items: int
    unit: str
    wall: float
    latencies: list[float]
    errors: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.items / self.wall if self.wall > 0 else float("nan")

    def p(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000


@dataclass
class Ours:
    top_ups: int
    commits: int
    events: Counter[str]
    wall: float
    dashboard: list[float]
    """Webhook sent -> public dashboard shows the balance (s)."""
    detected: list[float]
    """Webhook sent -> the watcher saw the balance in the read model (s)."""
    post: list[float]
    webhook: list[float]
    get: list[float]
    errors: list[str]
    expected_events: int
    notes: dict[str, str] = field(default_factory=dict)
    usage: Usage | None = None

    @property
    def event_count(self) -> int:
        return sum(self.events.values())


# --------------------------------------------------------------------------- infrastructure


@dataclass(frozen=True)
class Infra:
    kafka: str
    mongodb_uri: str
    kind: str


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _infra_env() -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_INFRA_DIR": str(INFRA_DIR),
        "KAFKA_PORT": str(KAFKA_PORT),
        "KAFKA_CONTROLLER_PORT": str(KAFKA_CONTROLLER_PORT),
        "FERRETDB_PORT": str(FERRETDB_PORT),
    }


@contextmanager
def infrastructure() -> Iterator[Infra]:
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URI")
    if kafka and mongo:
        log(f"using the given Kafka {kafka} and MongoDB {mongo}")
        yield Infra(kafka, mongo, "external")
        return
    env = _infra_env()
    script = ["bash", str(INFRA_SCRIPT)]
    # A clean run: stop what an interrupted earlier run may have left, wipe its data.
    subprocess.run([*script, "stop"], env=env, check=False, capture_output=True)
    shutil.rmtree(INFRA_DIR, ignore_errors=True)
    try:
        log(f"starting a private Kafka :{KAFKA_PORT} and FerretDB :{FERRETDB_PORT}")
        subprocess.run([*script, "start"], env=env, check=True)
        yield Infra(f"127.0.0.1:{KAFKA_PORT}", f"mongodb://127.0.0.1:{FERRETDB_PORT}/", "local")
    finally:
        log("stopping the private Kafka and FerretDB")
        subprocess.run([*script, "stop"], env=env, check=False)


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """Let cleanup finish even if Ctrl-C is pressed again (children inherit SIG_IGN)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# --------------------------------------------------------------------------- counting

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MONGO_COMMANDS = re.compile(
    r'^portal_mongo_commands_total\{collection="([^"]*)",command="([^"]*)",database="([^"]*)"\}'
    r" ([0-9.e+]+)$"
)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process so far (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


@dataclass
class Snapshot:
    cpu: dict[str, float]
    commands: Counter[tuple[str, str, str, str]]
    """(process, database, collection, command) -> commands sent so far."""


class Probe:
    """What every process has used: CPU seconds (from /proc) and database commands (each
    service counts its own in `portal_mongo_commands_total` on /metrics)."""

    def __init__(self, platform: RunningPlatform, infra: Infra, base_port: int) -> None:
        self.pids = {name: proc.pid for name, proc in platform.procs.items()}
        if infra.kind == "local":
            for name in ("kafka", "ferretdb"):
                with contextlib.suppress(OSError, ValueError):
                    pid_file = INFRA_DIR / name / f"{name}.pid"
                    self.pids[name] = int(pid_file.read_text().strip())
        self.metrics = {
            spec.name: f"http://127.0.0.1:{spec.port}/metrics"
            for spec in specs(base_port)
            if spec.name != "gateway"
        }
        self.metrics["gateway"] = f"http://127.0.0.1:{base_port + 191}/metrics"

    async def snapshot(self) -> Snapshot:
        cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        commands: Counter[tuple[str, str, str, str]] = Counter()
        async with httpx.AsyncClient(timeout=10) as http:
            for name, url in self.metrics.items():
                try:
                    text = (await http.get(url)).text
                except httpx.HTTPError as exc:
                    log(f"metrics of {name} unavailable: {exc}")
                    continue
                for line in text.splitlines():
                    found = MONGO_COMMANDS.match(line)
                    if found:
                        collection, command, database, value = found.groups()
                        commands[(name, database, collection, command)] += int(float(value))
        return Snapshot({k: v for k, v in cpu.items() if v is not None}, commands)


@dataclass
class Usage:
    """What the measured run cost, between two snapshots."""

    cpu: dict[str, float]
    commands: Counter[tuple[str, str, str, str]]
    wall: float

    @classmethod
    def between(cls, before: Snapshot, after: Snapshot, wall: float) -> Usage:
        cpu = {k: after.cpu[k] - before.cpu[k] for k in after.cpu if k in before.cpu}
        commands = after.commands.copy()
        commands.subtract(before.commands)
        return cls(cpu, +commands, wall)


# --------------------------------------------------------------------------- our pipeline


@dataclass
class Account:
    account_id: str
    headers: dict[str, str]
    balance: int = 0
    """What the dashboard should show once every top-up so far has landed."""


PASSWORD = "bench password 1"


async def new_accounts(http: httpx.AsyncClient, n: int, label: str) -> list[Account]:
    """Register and log in `n` customers through the gateway (identity hashes passwords
    with argon2id, so this happens before the clock starts), then wait for their wallets,
    which open when the AccountRegistered event reaches the wallet service."""

    async def one(i: int) -> Account:
        email = f"bench-{label}-{i}-{uuid.uuid4().hex[:8]}@example.com"
        r = await http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "name": "Bench", "kind": "person"},
        )
        if r.status_code != 201:
            raise BenchError(f"register failed: {r.status_code} {r.text[:200]}")
        account_id = r.json()["account_id"]
        r = await http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        if r.status_code != 200:
            raise BenchError(f"login failed: {r.status_code} {r.text[:200]}")
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        for _ in range(300):
            wallet = await http.get("/api/v1/wallet", headers=headers)
            if wallet.status_code == 200 and wallet.json().get("version"):
                return Account(account_id, headers)
            await asyncio.sleep(0.1)
        raise BenchError(f"the wallet of {account_id} did not open")

    gate = asyncio.Semaphore(4)

    async def limited(i: int) -> Account:
        async with gate:
            return await one(i)

    return list(await asyncio.gather(*(limited(i) for i in range(n))))


class DashboardWatcher:
    """One query per tick for every account waiting for its balance."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], interval: float) -> None:
        self.dashboards = db["dashboards"]
        self.interval = interval
        self.pending: dict[str, tuple[int, asyncio.Future[float]]] = {}
        self.polls = 0

    def expect(self, account_id: str, balance: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[account_id] = (balance, future)
        return future

    def forget(self, account_id: str) -> None:
        self.pending.pop(account_id, None)

    async def run(self) -> None:
        while True:
            if self.pending:
                ids = list(self.pending)
                self.polls += 1
                try:
                    cursor = self.dashboards.find({"_id": {"$in": ids}}, {"wallet": 1})
                    docs = [doc async for doc in cursor]
                except Exception as exc:  # keep watching; the waiter times out if this persists
                    log(f"watcher query failed: {exc}")
                    docs = []
                seen = time.perf_counter()
                for doc in docs:
                    entry = self.pending.get(doc["_id"])
                    balance = (doc.get("wallet") or {}).get("balance", 0)
                    if entry is not None and balance == entry[0]:
                        del self.pending[doc["_id"]]
                        if not entry[1].done():
                            entry[1].set_result(seen)
            await asyncio.sleep(self.interval)


@dataclass
class Sample:
    post: float
    webhook: float
    detected: float
    dashboard: float
    get: float
    """The confirming GET /api/v1/dashboard alone."""


class BenchError(Exception):
    pass


async def top_up_once(
    http: httpx.AsyncClient, account: Account, watcher: DashboardWatcher, timeout: float
) -> Sample:
    t0 = time.perf_counter()
    r = await http.post(
        "/api/v1/wallet/top-ups",
        json={"amount": AMOUNT, "method": "sandbox"},
        headers=account.headers,
    )
    t1 = time.perf_counter()
    if r.status_code != 201:
        raise BenchError(f"POST top-ups -> {r.status_code}: {r.text[:200]}")
    reference = r.json()["payment"]["reference"]
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.succeeded",
            "reference": reference,
            "amount": AMOUNT,
            "currency": "VND",
        }
    ).encode()
    headers = {
        "Portal-Signature": sign(SANDBOX_SECRET, body, int(time.time())),
        "Content-Type": "application/json",
    }
    expected = account.balance + AMOUNT
    seen = watcher.expect(account.account_id, expected)
    try:
        t2 = time.perf_counter()  # the command
        r = await http.post("/api/v1/payments/webhooks/sandbox", content=body, headers=headers)
        t3 = time.perf_counter()
        if r.status_code != 200 or r.json().get("status") != "processed":
            raise BenchError(f"webhook -> {r.status_code}: {r.text[:200]}")
        try:
            detected = await asyncio.wait_for(seen, timeout)
        except TimeoutError:
            raise BenchError(f"dashboard did not show {expected} within {timeout:.0f}s") from None
    finally:
        watcher.forget(account.account_id)
    # Confirm through the public API: the latency ends when a customer would see it.
    deadline = time.perf_counter() + timeout
    while True:
        t_get = time.perf_counter()
        r = await http.get("/api/v1/dashboard", headers=account.headers)
        t4 = time.perf_counter()
        if r.status_code == 200 and r.json()["wallet"]["balance"] == expected:
            break
        if t4 > deadline:
            raise BenchError(f"GET dashboard -> {r.status_code}: {r.text[:200]}")
        await asyncio.sleep(0.005)
    account.balance = expected
    return Sample(t1 - t0, t3 - t2, detected - t2, t4 - t2, t4 - t_get)


async def drive(
    http: httpx.AsyncClient,
    accounts: list[Account],
    count: int,
    concurrency: int,
    watcher: DashboardWatcher,
    timeout: float,
    budget: float | None = None,
) -> tuple[list[Sample], list[str], float]:
    """`count` top-ups spread over `accounts`, at most one in flight per account and at most
    `concurrency` in all; none starts after `budget` seconds. An account whose top-up fails
    is left alone from then on (its expected balance is unknown). Returns the samples, the
    errors and the wall time."""
    gate = asyncio.Semaphore(concurrency)
    start = time.perf_counter()
    stop_at = start + budget if budget else float("inf")
    samples: list[Sample] = []
    errors: list[str] = []
    share = [
        count // len(accounts) + (1 if i < count % len(accounts) else 0)
        for i in range(len(accounts))
    ]

    async def customer(account: Account, n: int) -> None:
        for _ in range(n):
            async with gate:
                if time.perf_counter() >= stop_at:
                    return
                try:
                    samples.append(await top_up_once(http, account, watcher, timeout))
                except (BenchError, httpx.HTTPError) as exc:
                    at = time.perf_counter() - start
                    errors.append(
                        f"at {at:.1f} s, {account.account_id}: {type(exc).__name__}: {exc}"
                    )
                    return

    await asyncio.gather(*(customer(a, n) for a, n in zip(accounts, share, strict=True) if n))
    return samples, errors, time.perf_counter() - start


async def bench_ours(
    base_url: str,
    mongo: AsyncMongoClient[dict[str, Any]],
    prefix: str,
    args: argparse.Namespace,
    probe: Probe | None = None,
) -> tuple[Ours, list[Account]]:
    watcher = DashboardWatcher(mongo[f"{prefix}_gateway"], args.poll_ms / 1000)
    watching = asyncio.create_task(watcher.run(), name="dashboard-watcher")
    limits = httpx.Limits(max_connections=args.concurrency * 2, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
            if args.warmup:
                warm = await new_accounts(http, min(args.warmup, args.concurrency), "warmup")
                log(f"warm-up: {args.warmup} top-ups on {len(warm)} other accounts")
                _, warm_errors, _ = await drive(
                    http, warm, args.warmup, args.concurrency, watcher, args.timeout
                )
                for error in warm_errors[:3]:
                    log(f"warm-up error: {error}")
            n_accounts = max(1, min(args.accounts, args.count))
            accounts = await new_accounts(http, n_accounts, "run")
            log(
                f"ours: {args.count} top-ups on {n_accounts} accounts, {args.concurrency} in flight"
            )
            before = await probe.snapshot() if probe else None
            samples, errors, wall = await drive(
                http,
                accounts,
                args.count,
                args.concurrency,
                watcher,
                args.timeout,
                args.max_seconds,
            )
            usage = (
                Usage.between(before, await probe.snapshot(), wall) if probe and before else None
            )
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    # Count what was actually appended for the measured accounts.
    commits = mongo[f"{prefix}_wallet"][COMMITS]
    streams = [stream_id(a.account_id) for a in accounts]
    events: Counter[str] = Counter()
    n_commits = 0
    async for doc in commits.find({"stream_id": {"$in": streams}}, {"events": 1}):
        n_commits += 1
        events.update(e["type"] for e in doc["events"])
    opened = sum(1 for a in accounts if a.balance > 0)
    wallet_db = mongo[f"{prefix}_wallet"]
    notes = {
        "dashboard watcher": f"{watcher.polls} queries on the read model, "
        f"{args.poll_ms:g} ms apart at most",
        "wallet DB at the end": ", ".join(
            [
                f"{await wallet_db[name].count_documents({})} {name}"
                for name in (COMMITS, "payment_references", "transactions")
            ]
        ),
    }
    ours = Ours(
        top_ups=len(samples),
        commits=n_commits,
        events=events,
        wall=wall,
        dashboard=[s.dashboard for s in samples],
        detected=[s.detected for s in samples],
        post=[s.post for s in samples],
        webhook=[s.webhook for s in samples],
        get=[s.get for s in samples],
        errors=errors,
        expected_events=3 * len(samples) + opened,
        notes=notes,
        usage=usage,
    )
    return ours, accounts


async def recorded_payloads(
    mongo: AsyncMongoClient[dict[str, Any]], prefix: str, accounts: list[Account]
) -> tuple[list[dict[str, Any]], list[list[tuple[bytes, list[tuple[str, bytes]], bytes]]]]:
    """Our run's commit documents and, per commit, the Kafka messages the relay made of it."""
    streams = [stream_id(a.account_id) for a in accounts]
    cursor = (
        mongo[f"{prefix}_wallet"][COMMITS]
        .find({"stream_id": {"$in": streams}})
        .sort([("recorded_at", ASCENDING)])
    )
    docs = [doc async for doc in cursor]
    messages = []
    for doc in docs:
        commit = _commit_from_doc(doc)
        per_commit = []
        for i in range(len(commit.events)):
            key, headers, value = envelope_for(commit, WALLET_SOURCE, i).to_kafka()
            per_commit.append((key, [(k, v.encode()) for k, v in headers.items()], value))
        messages.append(per_commit)
    return docs, messages


# --------------------------------------------------------------------------- raw baselines


async def closed_loop(
    items: Sequence[Any], concurrency: int, work: Callable[[Any], Awaitable[None]]
) -> None:
    """`concurrency` workers, each taking the next item once its previous one is done."""
    queue = iter(items)

    async def worker() -> None:
        for item in queue:
            await work(item)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def bench_kafka(
    bootstrap: str,
    commits: list[list[tuple[bytes, list[tuple[str, bytes]], bytes]]],
    concurrency: int,
    timeout: float,
) -> Result:
    """Each worker sends one commit's messages and awaits their acks, like the relay; one
    consumer reads the topic from the earliest offset. Latency: send -> consumed."""
    total = sum(len(c) for c in commits)
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:  # as many partitions as the topic our relay wrote to
        described = await admin.describe_topics(["wallet.events"])
        partitions = max((len(t.get("partitions", [])) for t in described), default=0) or 3
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-raw",
        enable_idempotence=True,
        acks="all",
        linger_ms=2,  # as the platform's producer (portal_chassis.bus.make_broker)
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    sent: dict[str, float] = {}
    latencies: list[float] = []
    errors: list[str] = []
    last = 0.0
    try:
        await producer.start()
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        await producer.partitions_for(topic)  # metadata ready before the clock starts
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        for tp in tps:
            await consumer.position(tp)

        async def consume() -> None:
            nonlocal last
            while len(latencies) < total:
                batch = await consumer.getmany(timeout_ms=200)
                now = time.perf_counter()
                for records in batch.values():
                    for record in records:
                        ce_id = dict(record.headers)["ce_id"].decode()
                        latencies.append(now - sent[ce_id])
                        last = now

        async def send(commit: list[tuple[bytes, list[tuple[str, bytes]], bytes]]) -> None:
            futures = []
            for key, headers, value in commit:
                sent[dict(headers)["ce_id"].decode()] = time.perf_counter()
                futures.append(await producer.send(topic, value, key=key, headers=headers))
            try:
                await asyncio.gather(*futures)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        consuming = asyncio.create_task(consume())
        start = time.perf_counter()
        await closed_loop(commits, concurrency, send)
        try:
            await asyncio.wait_for(consuming, timeout)
        except TimeoutError:
            errors.append(f"consumed {len(latencies)} of {total} within {timeout:.0f}s")
    finally:
        await producer.stop()
        await consumer.stop()
        with contextlib.suppress(Exception):
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            try:
                await admin.delete_topics([topic])
            finally:
                await admin.close()
    wall = (last or time.perf_counter()) - start
    result = Result("kafka", len(latencies), "msgs", wall, latencies, errors)
    result.notes["partitions"] = str(partitions)
    return result


async def bench_mongo(
    mongo: AsyncMongoClient[dict[str, Any]],
    database: str,
    docs: list[dict[str, Any]],
    concurrency: int,
) -> Result:
    """insert_one of our commit documents (fresh _id of the same length) into a collection
    with the event store's unique (stream_id, first_version) index."""
    collection = mongo[database]["commits"]
    await collection.create_index(
        [("stream_id", ASCENDING), ("first_version", ASCENDING)],
        unique=True,
        name="stream_version_unique",
    )
    copies = [{**doc, "_id": str(uuid.uuid4())} for doc in docs]
    latencies: list[float] = []
    errors: list[str] = []

    async def insert(doc: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        try:
            await collection.insert_one(doc)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return
        latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await closed_loop(copies, concurrency, insert)
    return Result(
        "mongo", len(latencies), "inserts", time.perf_counter() - start, latencies, errors
    )


# --------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    info: dict[str, str] = {}
    info["cpus"] = f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()}"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model", "Hardware")):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    info.setdefault("cpu", platform.processor() or platform.machine())
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    info["os"] = f"{platform.system()} {platform.release()}"
    info["python"] = f"{platform.python_implementation()} {platform.python_version()}"
    with contextlib.suppress(OSError):
        info["load avg before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def kafka_version(infra: Infra) -> str:
    if infra.kind != "local":
        return "external (version not probed)"
    pom = (REPO_ROOT / "deploy" / "local" / "kafka" / "pom.xml").read_text()
    found = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    return f"Apache Kafka {found.group(1) if found else '?'} (KRaft, single node)"


async def mongo_version(mongo: AsyncMongoClient[dict[str, Any]]) -> str:
    try:
        info = await mongo.admin.command("buildInfo")
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"
    ferret = info.get("ferretdb") or info.get("ferretdbFeatures")
    if isinstance(ferret, dict) and ferret.get("version"):
        return f"FerretDB {ferret['version']} (wire {info.get('version')})"
    if ferret is not None or "ferretdb" in json.dumps(info, default=str).lower():
        return f"FerretDB (wire {info.get('version')})"
    return f"MongoDB {info.get('version')}"


# --------------------------------------------------------------------------- report


def ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f} ms"


def ratio(ours: float, raw: float) -> str:
    if not raw or raw != raw or ours != ours:
        return "-"
    value = ours / raw
    return f"{value:,.0f}x" if value >= 100 else f"{value:.3g}x"


def kafka_size(commits: list[list[tuple[bytes, list[tuple[str, bytes]], bytes]]]) -> float:
    sizes = [
        len(k) + len(v) + sum(len(hk) + len(hv) for hk, hv in h)
        for commit in commits
        for k, h, v in commit
    ]
    return sum(sizes) / len(sizes) if sizes else 0.0


def render(title: str, columns: list[str], rows: list[list[str]], console: Any | None) -> None:
    if console is not None and Table is not None:
        table = Table(title=title, title_justify="left")
        for i, column in enumerate(columns):
            table.add_column(column, justify="left" if i == 0 else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    print(f"\n{title}")
    for row in [columns, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    ours: Ours,
    kafka: Result,
    raw_mongo: Result,
    msg_size: float,
    doc_size: float,
    total_wall: float,
) -> None:
    console = Console(width=120) if Console is not None else None
    machine_rows = [[k, v] for k, v in info.items()]
    render("Machine", ["", ""], machine_rows, console)

    in_flight = min(args.concurrency, args.accounts, args.count)
    ev_rate = ours.event_count / ours.wall if ours.wall else float("nan")
    commit_rate = ours.commits / ours.wall if ours.wall else float("nan")
    p50, p99 = percentile(ours.dashboard, 50) * 1000, percentile(ours.dashboard, 99) * 1000
    rows = [
        [
            "items",
            f"{ours.event_count} events in {ours.commits} commits",
            f"{kafka.items} msgs",
            "",
            f"{raw_mongo.items} inserts",
            "",
        ],
        [
            "throughput",
            f"{ev_rate:,.1f} events/s ({commit_rate:,.1f} commits/s)",
            f"{kafka.rate:,.1f} msgs/s",
            ratio(ev_rate, kafka.rate),
            f"{raw_mongo.rate:,.1f} inserts/s",
            ratio(commit_rate, raw_mongo.rate) + " (commits)",
        ],
        [
            "latency p50",
            ms(p50),
            ms(kafka.p(50)),
            ratio(p50, kafka.p(50)),
            ms(raw_mongo.p(50)),
            ratio(p50, raw_mongo.p(50)),
        ],
        [
            "latency p99",
            ms(p99),
            ms(kafka.p(99)),
            ratio(p99, kafka.p(99)),
            ms(raw_mongo.p(99)),
            ratio(p99, raw_mongo.p(99)),
        ],
        [
            "wall time",
            f"{ours.wall:.2f} s",
            f"{kafka.wall:.2f} s",
            "",
            f"{raw_mongo.wall:.2f} s",
            "",
        ],
    ]
    render(
        f"Top-up pipeline vs raw clients ({in_flight} in flight, same infrastructure; "
        "latency: ours webhook->GET /dashboard, Kafka produce->consume, Mongo insert_one)",
        ["", "ours", "raw Kafka", "ours/Kafka", "raw Mongo", "ours/Mongo"],
        rows,
        console,
    )

    n3 = max(1, len(ours.dashboard) // 3)
    by_type = ", ".join(f"{t} {n}" for t, n in sorted(ours.events.items()))
    detail = [
        [
            "top-ups completed",
            f"{ours.top_ups} of {args.count} on {min(args.accounts, args.count)} accounts"
            + (
                f" (no new top-up after the {args.max_seconds:g} s budget)"
                if ours.top_ups + len(ours.errors) < args.count
                else ""
            ),
        ],
        ["events appended", f"{ours.event_count} ({by_type})"],
        ["commits appended", f"{ours.commits}"],
        ["events expected", f"{ours.expected_events} (3 per top-up + 1 WalletOpened/account)"],
        [
            "POST /wallet/top-ups",
            f"p50 {ms(percentile(ours.post, 50) * 1000)}, "
            f"p99 {ms(percentile(ours.post, 99) * 1000)}",
        ],
        [
            "POST webhook (HTTP answer)",
            f"p50 {ms(percentile(ours.webhook, 50) * 1000)}, "
            f"p99 {ms(percentile(ours.webhook, 99) * 1000)}",
        ],
        [
            "webhook -> read model",
            f"p50 {ms(percentile(ours.detected, 50) * 1000)}, "
            f"p99 {ms(percentile(ours.detected, 99) * 1000)} "
            f"(watcher, {args.poll_ms:g} ms ticks)",
        ],
        [
            "webhook -> GET /dashboard",
            f"p50 {ms(p50)}, p99 {ms(p99)}, max {ms(max(ours.dashboard, default=0) * 1000)}",
        ],
        [
            "webhook -> GET /dashboard p50 by thirds",
            " / ".join(
                ms(percentile(third, 50) * 1000)
                for third in (
                    ours.dashboard[:n3],
                    ours.dashboard[n3 : 2 * n3],
                    ours.dashboard[2 * n3 :],
                )
            )
            + " (first / middle / last completed)",
        ],
        [
            "GET /dashboard alone",
            f"p50 {ms(percentile(ours.get, 50) * 1000)}, p99 {ms(percentile(ours.get, 99) * 1000)}",
        ],
        ["top-ups/s", f"{ours.top_ups / ours.wall:,.1f}" if ours.wall else "-"],
        *([k, v] for k, v in ours.notes.items()),
        [
            "raw Kafka",
            f"{kafka.items} msgs, avg {msg_size:,.0f} B (key+headers+value), "
            f"{kafka.notes.get('partitions', '?')} partitions like wallet.events, "
            f"p50 {ms(kafka.p(50))}, p99 {ms(kafka.p(99))}",
        ],
        [
            "raw Mongo",
            f"{raw_mongo.items} docs, avg {doc_size:,.0f} B BSON, "
            f"p50 {ms(raw_mongo.p(50))}, p99 {ms(raw_mongo.p(99))}",
        ],
        [
            "errors",
            f"ours {len(ours.errors)}, Kafka {len(kafka.errors)}, Mongo {len(raw_mongo.errors)}",
        ],
        ["total wall time", f"{total_wall:.1f} s (infra + platform start, warm-up, all runs)"],
    ]
    render("Details", ["", ""], detail, console)
    if ours.usage is not None:
        report_usage(ours.usage, ours, console)
    for error in [*ours.errors, *kafka.errors, *raw_mongo.errors][:10]:
        print(f"  error: {error}")


def report_usage(usage: Usage, ours: Ours, console: Any | None) -> None:
    """CPU seconds by process and database commands by collection and operation, each
    also per top-up, for the measured run."""
    per = max(ours.top_ups, 1)
    total_cpu = sum(usage.cpu.values())
    rows = [
        [name, f"{seconds:,.1f}", f"{seconds / per * 1000:,.1f}", f"{seconds / total_cpu:.0%}"]
        for name, seconds in sorted(usage.cpu.items(), key=lambda kv: -kv[1])
        if total_cpu
    ]
    rows.append(
        ["all", f"{total_cpu:,.1f}", f"{total_cpu / per * 1000:,.1f}", f"in {usage.wall:.1f} s"]
    )
    render("CPU seconds in the measured run", ["process", "s", "ms/top-up", "share"], rows, console)

    by_process: Counter[str] = Counter()
    by_op: Counter[tuple[str, str, str]] = Counter()
    for (process, database, collection, command), n in usage.commands.items():
        by_process[process] += n
        by_op[(database.rsplit("_", 1)[-1], collection, command)] += n
    total = sum(by_process.values())
    rows = [[p, f"{n:,}", f"{n / per:,.1f}"] for p, n in by_process.most_common()]
    rows.append(["all", f"{total:,}", f"{total / per:,.1f}"])
    render("Database commands by process", ["process", "commands", "per top-up"], rows, console)
    rows = [
        [f"{db}.{collection or '-'}", command, f"{n:,}", f"{n / per:,.2f}"]
        for (db, collection, command), n in by_op.most_common(30)
    ]
    render(
        "Database commands by collection and operation (top 30)",
        ["collection", "command", "commands", "per top-up"],
        rows,
        console,
    )


def log_summary(log_dir: Path) -> None:
    """Warnings and errors the platform logged during the run (they are not failures)."""
    pattern = re.compile(
        r'"level": "(warning|error|critical)"|^(WARNING|ERROR|CRITICAL)\b|'
        r"Traceback|\b(ERROR|WARNING)\b"
    )
    for name in ("wallet", "gateway", "projector"):
        path = log_dir / f"{name}.log"
        if not path.exists():
            continue
        lines = path.read_text(errors="replace").splitlines()
        hits = [line for line in lines if pattern.search(line)]
        print(f"  {name}.log: {len(lines)} lines, {len(hits)} warning/error lines")
        for line in list(dict.fromkeys(h[:160] for h in hits))[:3]:
            print(f"    {line}")


# --------------------------------------------------------------------------- main


async def run(
    base_url: str,
    infra: Infra,
    prefix: str,
    args: argparse.Namespace,
    probe: Probe | None = None,
) -> None:
    started = args.started
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    try:
        info = machine()
        info["kafka"] = kafka_version(infra)
        info["mongodb wire"] = await mongo_version(mongo)
        info["infrastructure"] = f"{infra.kind}: {infra.kafka}, {infra.mongodb_uri}"

        ours, accounts = await bench_ours(base_url, mongo, prefix, args, probe)
        docs, messages = await recorded_payloads(mongo, prefix, accounts)
        n_messages = sum(len(m) for m in messages)
        log(f"raw Kafka: {n_messages} messages, {args.concurrency} commits in flight")
        kafka = await bench_kafka(infra.kafka, messages, args.concurrency, args.timeout)
        log(f"raw Mongo: {len(docs)} insert_one, {args.concurrency} in flight")
        raw_mongo = await bench_mongo(mongo, f"{prefix}_raw", docs, args.concurrency)
        doc_size = sum(len(bson.encode(d)) for d in docs) / len(docs) if docs else 0.0
        info["load avg after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        report(
            args,
            info,
            ours,
            kafka,
            raw_mongo,
            kafka_size(messages),
            doc_size,
            time.perf_counter() - started,
        )
    finally:
        if infra.kind == "external":  # leave nothing behind in somebody else's databases
            for db in ("wallet", "gateway", "raw"):
                with contextlib.suppress(Exception):
                    await mongo.drop_database(f"{prefix}_{db}")
        await mongo.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m portal_bench.topup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--count", type=int, default=300, help="measured top-ups (300)")
    parser.add_argument("--accounts", type=int, default=20, help="customers (20)")
    parser.add_argument("--concurrency", type=int, default=12, help="top-ups in flight (12)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=12,
        help="unmeasured top-ups on other accounts first (12; 0 = none)",
    )
    parser.add_argument(
        "--poll-ms", type=float, default=25.0, help="dashboard watcher tick in ms (25)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=120.0,
        help="start no measured top-up after this many seconds (120; 0 = no limit)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds one top-up may take to reach the dashboard (30)",
    )
    args = parser.parse_args(argv)
    if args.count < 1 or args.accounts < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--count, --accounts and --concurrency must be >= 1, --warmup >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.started = time.perf_counter()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    busy = [s.port for s in specs(BASE_PORT) if port_in_use(s.port)]
    if busy:
        log(f"ports {busy} are taken (another bench run?); not starting")
        return 1
    prefix = f"bench_{uuid.uuid4().hex[:6]}"
    stack = ExitStack()
    try:
        infra = stack.enter_context(infrastructure())
        env = platform_env(
            BASE_PORT,
            infra.kafka,
            infra.mongodb_uri,
            prefix,
            extra={
                "PAYMENTS_SANDBOX_SECRET": SANDBOX_SECRET,
                # Every bench customer registers from 127.0.0.1.
                "IDENTITY_REGISTRATIONS_PER_ADDRESS_PER_HOUR": "100000",
            },
        )
        log(f"starting the platform on :{BASE_PORT} (databases {prefix}_*, logs {LOG_DIR})")
        running = stack.enter_context(platform_processes(BASE_PORT, env, LOG_DIR))
        probe = Probe(running, infra, BASE_PORT)
        asyncio.run(run(running.url, infra, prefix, args, probe))
    except KeyboardInterrupt:
        log("interrupted; cleaning up")
        return 130
    finally:
        with sigint_ignored():
            stack.close()
    print(f"platform logs: {LOG_DIR}")
    log_summary(LOG_DIR)
    return 0


if __name__ == "__main__":
    sys.exit(main())
