"""The HTTP command path as a benchmark: open-loop ``POST /referrals`` against the three
services run as real processes, next to a minimal FastAPI + asyncpg app
(bench/http_baseline.py) measured in the same run with the same load generator.

Run from the repository root::

    python -m bench.http_commands [--rates 10,50,100,150,200] [--seconds S] [--json PATH]

By default it starts the embedded NATS and PostgreSQL servers; with both REITTI_NATS_URL
and REITTI_DATABASE_URL set it uses those. Each run uses a fresh namespace and two fresh
databases (Reitti's and the baseline's), all removed at the end. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from bench.foundation import (
    REPORTING_CONSUMER,
    REPORTING_SCHEMA,
    Servers,
    delete_streams,
    finite,
    fresh_database,
    latency_ms,
    machine,
    say,
    servers,
)
from bench.http_baseline import APPLICATION_NAME as BASELINE_APP
from runtime.auth import TokenIssuer
from runtime.config import Settings
from runtime.streams import connect_nats
from tests.support.cluster import ServiceReplica
from tests.support.factories import referral_request
from tests.support.up import command_line, descendants

DEFAULT_RATES = (10.0, 50.0, 100.0, 150.0, 200.0)
#: the qualify rule: every answer 2xx and p99 below this
P99_LIMIT_MS = 100.0
#: the low rate of the end-to-end figure
E2E_LOW_RATE = 10.0
#: seconds to wait, after a step's last answer, for reporting to consume its events
CONSUME_WAIT = 60.0
POLL_SECONDS = 0.005
SERVICES = ("intake", "guidance", "reporting")
BENCH_APP = "bench-http-commands"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Options:
    rates: tuple[float, ...]
    seconds: float
    json_path: Path | None


def parse_rates(text: str) -> tuple[float, ...]:
    rates = tuple(float(part) for part in text.split(",") if part.strip())
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError(f"rates must be positive numbers: {text!r}")
    return rates


def parse_options(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.http_commands", description=__doc__.split("\n\n")[0])
    p.add_argument("--rates", type=parse_rates, default=DEFAULT_RATES, help="requests/s, comma-separated")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each rate step (10)")
    p.add_argument("--json", type=Path, default=None, help="also write every figure as JSON here")
    a = p.parse_args(argv)
    return Options(rates=tuple(a.rates), seconds=a.seconds, json_path=a.json)


# --------------------------------------------------------------------------- pure parts


def timetable(rate: float, seconds: float) -> list[float]:
    """When each request of a step is sent, in seconds from the step's start: request *i*
    at *i*/rate, whatever the answers before it do (open loop)."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("rate and seconds must be positive")
    return [i / rate for i in range(max(1, round(rate * seconds)))]


def is_2xx(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def qualifies(statuses: Sequence[int | None], p99_ms: float) -> bool:
    """A rate qualifies when every request was answered 2xx (no error, no timeout) and
    the p99 latency is below 100 ms."""
    return bool(statuses) and all(is_2xx(s) for s in statuses) and p99_ms < P99_LIMIT_MS


def cpu_seconds(stat: str) -> float:
    """utime + stime of a ``/proc/<pid>/stat`` line, in seconds."""
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# --------------------------------------------------------------------------- the load


@dataclass(frozen=True)
class Answer:
    #: loop times: when the request was due, and when its answer (or error) came
    due: float
    answered: float
    status: int | None
    event_ids: tuple[str, ...] = ()

    @property
    def latency(self) -> float:
        """From the request's due time: a late send counts against the server's figure."""
        return self.answered - self.due


@dataclass
class Step:
    target: str
    rate: float
    seconds: float
    answers: list[Answer]
    started: float
    max_behind_ms: float
    client_cpu_s: float
    cpu_s: dict[str, float] = field(default_factory=dict)
    #: Reitti: whether reporting consumed every event of the step's 201 answers
    consumed_all: bool | None = None

    def summary(self) -> dict[str, Any]:
        ok = [a for a in self.answers if is_2xx(a.status)]
        last = max((a.answered for a in self.answers), default=self.started)
        lat = latency_ms([a.latency for a in self.answers])
        statuses: dict[str, int] = {}
        for a in self.answers:
            statuses[str(a.status)] = statuses.get(str(a.status), 0) + 1
        answered = sum(1 for a in self.answers if a.status is not None)
        return {
            "target": self.target,
            "rate": self.rate,
            "seconds": self.seconds,
            "sent": len(self.answers),
            "statuses": statuses,
            "achieved_rate": len(ok) / (last - self.started) if last > self.started else 0.0,
            "share_2xx": len(ok) / len(self.answers) if self.answers else 0.0,
            "latency_ms": lat,
            "qualifies": qualifies([a.status for a in self.answers], lat["p99"]),
            "max_behind_schedule_ms": self.max_behind_ms,
            "client_cpu_ms_per_request": 1000 * self.client_cpu_s / max(1, len(self.answers)),
            "cpu_ms_per_command": {k: 1000 * v / max(1, answered) for k, v in self.cpu_s.items()},
        }


async def open_loop(
    http: httpx.AsyncClient,
    url: str,
    bodies: Sequence[dict[str, Any]],
    rate: float,
    seconds: float,
    on_answer: Callable[[Answer], None] | None = None,
) -> Step:
    """Send ``bodies`` (at least rate * seconds of them) on the fixed timetable, each in a
    task of its own, then wait for every answer; ``on_answer`` hears of each as it comes."""
    loop = asyncio.get_running_loop()
    offsets = timetable(rate, seconds)

    async def one(due: float, body: dict[str, Any]) -> Answer:
        try:
            response = await http.post(url, json=body)
        except httpx.HTTPError:
            return Answer(due, loop.time(), None)
        answered = loop.time()
        ids: tuple[str, ...] = ()
        if response.status_code == 201 and "event_ids" in (payload := response.json()):
            ids = tuple(str(i) for i in payload["event_ids"])
        answer = Answer(due, answered, response.status_code, ids)
        if on_answer is not None:
            on_answer(answer)
        return answer

    cpu_before = time.process_time()
    start = loop.time() + 0.05
    tasks: list[asyncio.Task[Answer]] = []
    behind = 0.0
    if len(bodies) < len(offsets):
        raise ValueError(f"{len(offsets)} requests are due and only {len(bodies)} bodies given")
    for offset, body in zip(offsets, bodies, strict=False):
        due = start + offset
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        behind = max(behind, loop.time() - due)
        tasks.append(asyncio.create_task(one(due, body)))
    answers = list(await asyncio.gather(*tasks))
    name = urlsplit(url).path
    return Step(name, rate, seconds, answers, start, behind * 1000, time.process_time() - cpu_before)


def referral_bodies(count: int, run: str) -> list[dict[str, Any]]:
    """Valid referrals of new clients; each last name is unique, so that no two share a
    name and birth date (which intake would hold as a possible duplicate, 202)."""
    bodies = []
    for i in range(count):
        body = referral_request()
        body["client"]["last_name"] = f"Meikäläinen-{run}-{i}"
        bodies.append(body)
    return bodies


# --------------------------------------------------------------------------- CPU by process


def read_cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return cpu_seconds(f.read())
    except OSError:
        return None


def listening_pid(port: int) -> int | None:
    """The local process listening on TCP ``port``, if this machine has it and may see it."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="utf-8") as f:
            for line in list(f)[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(entry)
    return None


@dataclass
class Processes:
    """The server processes whose CPU is counted: the services, the baseline, nats-server,
    and PostgreSQL's postmaster and its children sorted by their sessions' application_name."""

    named: dict[str, int]
    postmaster: int | None
    admin: asyncpg.Connection

    async def snapshot(self) -> dict[int, tuple[str, float]]:
        found: dict[int, tuple[str, float]] = {}
        for name, pid in self.named.items():
            if (cpu := read_cpu(pid)) is not None:
                found[pid] = (name, cpu)
        if self.postmaster is None:
            return found
        rows = await self.admin.fetch("SELECT pid, application_name FROM pg_stat_activity")
        apps = {int(r["pid"]): str(r["application_name"] or "") for r in rows}
        for pid in {self.postmaster} | descendants(self.postmaster):
            if (cpu := read_cpu(pid)) is not None:
                found[pid] = (postgres_group(apps.get(pid, "")), cpu)
        return found


def postgres_group(application_name: str) -> str:
    if application_name == BASELINE_APP:
        return "postgres (baseline's sessions)"
    if application_name == BENCH_APP:
        return "postgres (benchmark's own session)"
    if application_name.startswith("reitti"):
        return "postgres (Reitti's sessions)"
    return "postgres (postmaster, background)"


def cpu_delta(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds by group between two snapshots; a process started meanwhile counts whole."""
    spent: dict[str, float] = {}
    for pid, (group, cpu) in after.items():
        earlier = before.get(pid, (group, 0.0))[1]
        spent[group] = spent.get(group, 0.0) + max(0.0, cpu - earlier)
    return spent


#: the processes each side's "server CPU per command" adds up
REITTI_GROUPS = (
    *SERVICES,
    "nats-server",
    "postgres (Reitti's sessions)",
    "postgres (postmaster, background)",
)
BASELINE_GROUPS = ("baseline", "postgres (baseline's sessions)", "postgres (postmaster, background)")


# --------------------------------------------------------------------------- visible in reporting


class Visibility:
    """Polls reporting.consumed_events for the event ids of 201 answers as they come:
    when each was first seen there (loop time), by event id."""

    SQL = (
        f"SELECT event_id::text FROM {REPORTING_SCHEMA}.consumed_events "
        "WHERE consumer = $1 AND event_id = ANY($2::uuid[])"
    )

    def __init__(self, admin: asyncpg.Connection) -> None:
        self.admin = admin
        self.pending: set[str] = set()
        self.seen: dict[str, float] = {}

    def expect(self, answer: Answer) -> None:
        self.pending.update(answer.event_ids)

    async def poll_once(self) -> None:
        if not self.pending:
            return
        rows = await self.admin.fetch(self.SQL, REPORTING_CONSUMER, list(self.pending))
        now = asyncio.get_running_loop().time()
        for row in rows:
            self.seen[row["event_id"]] = now
            self.pending.discard(row["event_id"])

    async def watch(self, stop: asyncio.Event) -> None:
        """Poll every few ms until ``stop`` is set."""
        while not stop.is_set():
            await self.poll_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)

    async def drain(self, within: float) -> None:
        """Poll until nothing is pending, or ``within`` s have passed."""
        deadline = asyncio.get_running_loop().time() + within
        while self.pending and asyncio.get_running_loop().time() < deadline:
            await self.poll_once()
            await asyncio.sleep(POLL_SECONDS)


def visible_after_answer(answers: Sequence[Answer], seen: dict[str, float]) -> list[float]:
    """For each 201 that lists events: seconds from its answer until every one of its
    events was seen in reporting; infinite when one never was (so that a missing event
    cannot improve the percentiles)."""
    return [
        max(seen[e] for e in a.event_ids) - a.answered if all(e in seen for e in a.event_ids) else math.inf
        for a in answers
        if a.status == 201 and a.event_ids
    ]


async def end_to_end(
    http: httpx.AsyncClient, url: str, admin: asyncpg.Connection, rate: float, seconds: float
) -> dict[str, Any]:
    """Open-loop referrals while a poller watches consumed_events: for each 201, the time
    from its answer until reporting has consumed every event it lists."""
    bodies = referral_bodies(len(timetable(rate, seconds)), f"e2e{rate:g}")
    visibility = Visibility(admin)
    stop = asyncio.Event()
    watcher = asyncio.create_task(visibility.watch(stop))
    try:
        step = await open_loop(http, url, bodies, rate, seconds, on_answer=visibility.expect)
    finally:
        stop.set()
        await watcher
    await visibility.drain(CONSUME_WAIT)
    latencies = visible_after_answer(step.answers, visibility.seen)
    return {
        "rate": rate,
        "seconds": seconds,
        "commands": len(latencies),
        "missing": sum(1 for v in latencies if math.isinf(v)),
        "latency_ms": latency_ms(latencies),
        "command_latency_ms": step.summary()["latency_ms"],
        "poll_ms": POLL_SECONDS * 1000,
    }


# --------------------------------------------------------------------------- the servers


class BaselineReplica(ServiceReplica):
    """bench/http_baseline.py as its own process, started and stopped like a service."""

    def start(self) -> BaselineReplica:
        self.logs.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bench.http_baseline", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self


def service_env(
    nats_url: str, database_url: str, namespace: str, base: Path, public_pem: str
) -> dict[str, str]:
    """The services' environment (as tests/cluster builds it): this run's servers, namespace,
    token key and key-encryption keys, no retention sweep."""
    key = base / "token-signing.pub"
    key.write_text(public_pem, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REITTI_")}
    env.update(
        PYTHONUNBUFFERED="1",
        REITTI_NATS_URL=nats_url,
        REITTI_DATABASE_URL=database_url,
        REITTI_NAMESPACE=namespace,
        REITTI_JWT_PUBLIC_KEY=str(key),
        REITTI_RETENTION_SWEEP_HOURS="0",
        REITTI_KEY_ENCRYPTION_KEY_DIR=str(base / "kek"),
    )
    return env


@contextlib.asynccontextmanager
async def started(replicas: Sequence[ServiceReplica]) -> AsyncIterator[None]:
    """Start every replica and wait until each is healthy; stop them all (by process) after."""
    try:
        await asyncio.gather(*(asyncio.to_thread(r.start_healthy) for r in replicas))
        yield
    except BaseException:
        for replica in replicas:
            if replica.log.exists():
                tail = replica.log.read_text(errors="replace").splitlines()[-20:]
                say(f"--- {replica.service} on {replica.port} ---\n" + "\n".join(tail))
        raise
    finally:
        for replica in replicas:
            replica.stop()


def nats_port(url: str) -> int | None:
    parts = urlsplit(url.split(",")[0].strip())
    return parts.port if parts.hostname in ("127.0.0.1", "localhost") else None


async def postmaster_pid(admin: asyncpg.Connection) -> int | None:
    """The postmaster: the parent of this session's backend, if this machine runs it."""
    backend = int(await admin.fetchval("SELECT pg_backend_pid()"))
    if "postgres" not in command_line(backend):
        return None
    return parent_pid(backend)


def parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


# --------------------------------------------------------------------------- the run


@dataclass
class Bench:
    opts: Options
    reitti_url: str
    baseline_url: str
    headers: dict[str, str]
    admin: asyncpg.Connection
    processes: Processes

    async def step(self, http: httpx.AsyncClient, target: str, rate: float, label: str) -> Step:
        count = len(timetable(rate, self.opts.seconds))
        bodies = referral_bodies(count, f"{label}{rate:g}")
        url = f"{self.reitti_url}/referrals" if target == "reitti" else f"{self.baseline_url}/commands"
        before = await self.processes.snapshot()
        step = await open_loop(http, url, bodies, rate, self.opts.seconds)
        if target == "reitti":
            # the work a command causes after its answer (relay, consumers) is its cost too
            step.consumed_all = await self.caught_up(step)
        step.cpu_s = cpu_delta(before, await self.processes.snapshot())
        step.target = target
        return step

    async def caught_up(self, step: Step) -> bool:
        """Wait until reporting has consumed every event of the step's 201 answers."""
        visibility = Visibility(self.admin)
        for answer in step.answers:
            visibility.expect(answer)
        await visibility.drain(CONSUME_WAIT)
        return not visibility.pending


def cpu_total(cpu: dict[str, float], groups: Sequence[str]) -> float:
    return sum(cpu.get(g, 0.0) for g in groups)


async def sweep(bench: Bench) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with (
        httpx.AsyncClient(timeout=10, limits=limits, headers=bench.headers) as reitti_http,
        httpx.AsyncClient(timeout=10, limits=limits) as baseline_http,
    ):
        say("  warm-up: 20/s for 2 s on each")
        warm = Options(bench.opts.rates, 2.0, None)
        warm_bench = Bench(
            warm, bench.reitti_url, bench.baseline_url, bench.headers, bench.admin, bench.processes
        )
        await warm_bench.step(reitti_http, "reitti", 20, "warm")
        await warm_bench.step(baseline_http, "baseline", 20, "warm")
        steps: list[dict[str, Any]] = []
        for rate in bench.opts.rates:
            reitti = await bench.step(reitti_http, "reitti", rate, "sweep")
            baseline = await bench.step(baseline_http, "baseline", rate, "sweep")
            r, b = reitti.summary(), baseline.summary()
            r["reporting_consumed_all"] = reitti.consumed_all
            r["server_cpu_ms_per_command"] = cpu_total(r["cpu_ms_per_command"], REITTI_GROUPS)
            b["server_cpu_ms_per_command"] = cpu_total(b["cpu_ms_per_command"], BASELINE_GROUPS)
            steps.append({"rate": rate, "reitti": r, "baseline": b, "ratios": ratios(r, b)})
            say(
                f"  {rate:g}/s: Reitti {r['share_2xx']:.0%} 2xx, p50 {r['latency_ms']['p50']:.1f} "
                f"p99 {r['latency_ms']['p99']:.1f} ms, {r['server_cpu_ms_per_command']:.1f} ms CPU; "
                f"baseline p50 {b['latency_ms']['p50']:.1f} p99 {b['latency_ms']['p99']:.1f} ms, "
                f"{b['server_cpu_ms_per_command']:.1f} ms CPU"
            )
        qualifying = [s["rate"] for s in steps if s["reitti"]["qualifies"]]
        highest = max(qualifying) if qualifying else None
        e2e_rates = sorted({E2E_LOW_RATE, *([highest] if highest is not None else [])})
        e2e = []
        for rate in e2e_rates:
            say(f"  end to end at {rate:g}/s for {bench.opts.seconds:g} s")
            url = f"{bench.reitti_url}/referrals"
            e2e.append(await end_to_end(reitti_http, url, bench.admin, rate, bench.opts.seconds))
    return {"steps": steps, "highest_qualifying_rate": highest, "end_to_end": e2e}


def ratios(reitti: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    def over(a: float, b: float) -> float | None:
        return a / b if b and math.isfinite(a) and math.isfinite(b) else None

    return {
        "achieved_rate": over(reitti["achieved_rate"], baseline["achieved_rate"]),
        "p50": over(reitti["latency_ms"]["p50"], baseline["latency_ms"]["p50"]),
        "p99": over(reitti["latency_ms"]["p99"], baseline["latency_ms"]["p99"]),
        "server_cpu_per_command": over(
            reitti["server_cpu_ms_per_command"], baseline["server_cpu_ms_per_command"]
        ),
    }


async def run(opts: Options, found: Servers) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="reitti-http-bench-"))
    namespace = f"bench_{uuid.uuid4().hex[:8]}"
    issuer = TokenIssuer.generate()
    token = issuer.issue(person_id="advisor-1", role="employment_advisor", organisation="te-office")
    load_before = os.getloadavg()
    try:
        async with (
            fresh_database(found.admin_url) as reitti_db,
            fresh_database(found.admin_url) as baseline_db,
        ):
            env = service_env(found.nats_url, reitti_db, namespace, base, issuer.public_pem())
            settings = Settings.from_env(env)
            try:
                migrated = await asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "reitti.cli", "migrate"],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=180,
                )
                if migrated.returncode != 0:
                    raise RuntimeError(f"reitti migrate failed:\n{migrated.stderr}")
                replicas = [ServiceReplica(s, env, base / "logs") for s in SERVICES]
                baseline = BaselineReplica(
                    "baseline", {**env, "BENCH_DATABASE_URL": baseline_db}, base / "logs"
                )
                async with started([*replicas, baseline]):
                    figures = await measure(opts, replicas, baseline, reitti_db, baseline_db, found, token)
            finally:
                nc = await connect_nats(settings.nats_url, name=BENCH_APP)
                try:
                    await delete_streams(nc.jetstream(), settings)
                finally:
                    await nc.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.http_commands", *sys.argv[1:]]),
        "servers": found.kind,
        "rates": list(opts.rates),
        "seconds": opts.seconds,
        "namespace": namespace,
        "machine": {**machine(), "load_average_before": load_before, "load_average_after": os.getloadavg()},
        "p99_limit_ms": P99_LIMIT_MS,
        **figures,
    }


async def raw_insert_rate(database_url: str, count: int = 300) -> float:
    """Single-row autocommit INSERTs of a referral's JSON from one connection: the disk's
    commit rate, beside which the figures above are read (rows/s)."""
    conn = await asyncpg.connect(database_url, server_settings={"application_name": BENCH_APP})
    try:
        await conn.execute("CREATE TABLE bench_raw_insert (id bigint, body jsonb)")
        body = json.dumps(referral_request())
        started_at = time.perf_counter()
        for i in range(count):
            await conn.execute("INSERT INTO bench_raw_insert (id, body) VALUES ($1, $2::jsonb)", i, body)
        return count / (time.perf_counter() - started_at)
    finally:
        await conn.close()


async def measure(
    opts: Options,
    replicas: Sequence[ServiceReplica],
    baseline: ServiceReplica,
    reitti_db: str,
    baseline_db: str,
    found: Servers,
    token: str,
) -> dict[str, Any]:
    admin = await asyncpg.connect(reitti_db, server_settings={"application_name": BENCH_APP})
    try:
        named = {r.service: r.proc.pid for r in [*replicas, baseline] if r.proc is not None}
        port = nats_port(found.nats_url)
        if port is not None and (pid := listening_pid(port)) is not None:
            named["nats-server"] = pid
        processes = Processes(named, await postmaster_pid(admin), admin)
        intake = next(r for r in replicas if r.service == "intake")
        bench = Bench(opts, intake.url, baseline.url, {"Authorization": f"Bearer {token}"}, admin, processes)
        say(
            f"servers: {found.kind}; rates {', '.join(f'{r:g}' for r in opts.rates)}/s, "
            f"{opts.seconds:g} s each; "
            f"CPU counted for {', '.join(sorted(named))}"
            + (", postgres" if processes.postmaster else " (PostgreSQL not local: not counted)")
        )
        raw = await raw_insert_rate(baseline_db)
        say(f"  raw insert, 1 connection: {raw:,.0f} rows/s")
        figures = await sweep(bench)
        figures["raw_insert_rows_per_s"] = raw
        figures["postgresql"] = str(await admin.fetchval("SHOW server_version"))
        figures["cpu_counted"] = sorted(named) + (["postgres"] if processes.postmaster else [])
        return figures
    finally:
        await admin.close()


# --------------------------------------------------------------------------- report


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Reitti HTTP commands benchmark, {report['date']}",
        f"servers: {report['servers']}; {report['seconds']:g} s per rate; {m['cpus']} CPUs; load average "
        f"{' '.join(f'{x:.2f}' for x in m['load_average_before'])} before, "
        f"{' '.join(f'{x:.2f}' for x in m['load_average_after'])} after",
        "latency from each request's due time to its answer; CPU = server processes' utime+stime / answers;",
        "late = how far behind its timetable the load generator sent (when large, it is the limit)",
        f"raw insert (1 connection, autocommit, this disk): {report['raw_insert_rows_per_s']:,.0f} rows/s",
        "",
        f"{'rate':>5} {'side':<9} {'achieved/s':>10} {'2xx':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'CPU ms/cmd':>10} {'qualifies':>9} {'late ms':>8}",
    ]
    for s in report["steps"]:
        for side in ("reitti", "baseline"):
            f = s[side]
            lat = f["latency_ms"]
            lines.append(
                f"{s['rate']:>5g} {side:<9} {f['achieved_rate']:>10.1f} {f['share_2xx']:>6.1%} "
                f"{fmt(lat['p50']):>8} {fmt(lat['p99']):>8} {fmt(lat['max']):>8} "
                f"{fmt(f['server_cpu_ms_per_command'], '.2f'):>10} {('yes' if f['qualifies'] else 'no'):>9} "
                f"{f['max_behind_schedule_ms']:>8.1f}"
            )
        r = s["ratios"]
        lines.append(
            f"{'':>5} {'ratio':<9} {fmt(r['achieved_rate'], '.2f'):>10} {'':>6} {fmt(r['p50'], '.2f'):>8} "
            f"{fmt(r['p99'], '.2f'):>8} {'':>8} {fmt(r['server_cpu_per_command'], '.2f'):>10}"
        )
    behind = [s["rate"] for s in report["steps"] if s["reitti"]["reporting_consumed_all"] is False]
    if behind:
        lines.append(f"reporting did not consume every event within {CONSUME_WAIT:g} s at: {behind}")
    lines += ["", "server CPU per command by process (ms):"]
    groups = sorted(
        {g for s in report["steps"] for side in ("reitti", "baseline") for g in s[side]["cpu_ms_per_command"]}
    )
    for s in report["steps"]:
        for side in ("reitti", "baseline"):
            cpu = s[side]["cpu_ms_per_command"]
            parts = ", ".join(f"{g} {cpu[g]:.2f}" for g in groups if cpu.get(g, 0.0) > 0.005)
            lines.append(f"  {s['rate']:>5g}/s {side:<9} {parts}")
    lines.append(
        f"  (load generator: {report['steps'][-1]['reitti']['client_cpu_ms_per_request']:.2f} ms CPU "
        "per request at the top rate)"
    )
    highest = report["highest_qualifying_rate"]
    lines += [
        "",
        f"highest qualifying rate (every answer 2xx, p99 < {report['p99_limit_ms']:g} ms): "
        + (f"{highest:g}/s" if highest is not None else "none"),
    ]
    for e in report["end_to_end"]:
        lat = e["latency_ms"]
        lines.append(
            f"end to end at {e['rate']:g}/s: 201 answered -> its events in reporting.consumed_events: "
            f"p50 {fmt(lat['p50'])} p99 {fmt(lat['p99'])} max {fmt(lat['max'])} ms "
            f"({e['commands']} commands, {e['missing']} missing, poll every {e['poll_ms']:g} ms)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(argv)
    with servers() as found:
        report = asyncio.run(run(opts, found))
    print(render(report))
    if opts.json_path is not None:
        opts.json_path.write_text(json.dumps(finite(report), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
