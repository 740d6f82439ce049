"""Three ``python -m bot run`` processes on one PostgreSQL database, in Slack HTTP mode, behind
a real HAProxy, driven through the balancer by the Slack stand-in.

1. 300 signed slash commands from 100 members, spread by the balancer: every one answered,
   none run twice (each adds a distinct contact: the database holds each exactly once), and
   each process's ``rapport_commands_total`` equals what the balancer sent it.
2. 2,000 due nudges delivered exactly once while one process is SIGKILLed midway: the
   stand-in freezes the process that has had 150 DMs answered (its later calls get no answer,
   so they were never delivered), waits until those 150 are marked sent, and the test kills
   it with nudges claimed and DMs in flight. Those go out once, from the others, after the
   lease (``RAPPORT_DISPATCH_LEASE=3``). Each process's ``rapport_nudges_total{outcome="sent"}``
   equals the DMs the stand-in received from it.
3. SIGTERM to one of the two left: its ``/readyz`` turns 503 at once, HAProxy takes it out,
   commands sent through the balancer meanwhile are all answered (by the other), and the
   process exits 0 within 10 s.

Also: every line the processes logged is one JSON object (``RAPPORT_LOG_FORMAT=json``) and no
token or signing secret appears in the logs; the three processes started together on an
empty database (their start-up migrations took turns on the advisory lock).

Needs PostgreSQL (``RAPPORT_TEST_POSTGRES_URL``) and HAProxy (installed from Debian's
packages when missing and running as root).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from core.models import ContactRow, Nudge
from tests.adapters.slack.slackreq import SlackSender
from tests.scale.cluster import (
    SECRET,
    Cluster,
    create_database,
    drop_database,
    metric_sum,
    token_of,
)
from tests.scale.haproxy import Balancer, HAProxyUnavailable, ensure_haproxy
from tests.scale.seed import nudge_states, seed_due_nudges
from tests.scale.standin import ScaleStandIn

POSTGRES_URL = os.environ.get("RAPPORT_TEST_POSTGRES_URL")
PROCESSES = 3
MEMBERS = 100
COMMANDS_EACH = 3
NUDGES = 2000
FREEZE_AFTER = 150
LEASE = 10.0  # short, but longer than the event-loop stalls of three processes on a busy 2-core machine

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs RAPPORT_TEST_POSTGRES_URL: several processes share one PostgreSQL database"
)


async def eventually(check, within: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(interval)


async def scalar(url: str, statement):
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(statement)
    finally:
        await engine.dispose()


async def test_three_processes_behind_haproxy(tmp_path):
    try:
        haproxy = ensure_haproxy()
    except HAProxyUnavailable as err:
        pytest.skip(str(err))
    standin = ScaleStandIn()
    await standin.start()
    for i in range(PROCESSES):
        standin.add_team("T1", token_of(i))
    members = [f"U{i:03d}" for i in range(MEMBERS)]
    for user in members:
        standin.add_user(user, "T1", tz="UTC", name=f"Member {user}")
    name, url = await create_database(POSTGRES_URL)
    cluster = Cluster(
        PROCESSES, url, standin.api_url, tmp_path,
        RAPPORT_DISPATCH_INTERVAL="0.3", RAPPORT_DISPATCH_LEASE=str(LEASE), RAPPORT_DRAIN_SECONDS="2",
        RAPPORT_LOG_FORMAT="json", RAPPORT_DEFAULT_TZ="UTC",
    )
    lb: Balancer | None = None
    try:
        await cluster.start()  # all three at once, on an empty database
        lb = Balancer({bot.name: bot.port for bot in cluster.bots}, tmp_path)
        await lb.start(haproxy)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=40)) as http:
            send = SlackSender(f"{lb.url}/slack/events", SECRET, standin, http)
            await commands_spread_and_run_once(cluster, lb, send, http, url, members)
            await app_home_state_is_shared(standin, send)
            victim = await nudges_exactly_once_through_a_kill(cluster, standin, http, url)
            await drain_on_sigterm(cluster, lb, send, http, victim, members)
        logs_are_json_without_secrets(cluster)
    finally:
        if lb is not None:
            await lb.stop()
        await cluster.stop()
        await standin.stop()
        await drop_database(POSTGRES_URL, name)


async def commands_spread_and_run_once(cluster, lb, send, http, url, members) -> None:
    before = {name: s.responses_2xx for name, s in lb.stats().items()}
    gate = asyncio.Semaphore(25)

    async def one(user: str, k: int) -> str:
        async with gate:
            return await send.ask(f"add Contact {user}-{k} company: Acme", user=user, team="T1", within=10)

    jobs = [(user, k) for k in range(COMMANDS_EACH) for user in members]
    replies = await asyncio.gather(*(one(user, k) for user, k in jobs))
    for (user, k), reply in zip(jobs, replies, strict=True):
        assert f"Added Contact {user}-{k}" in reply, reply

    # None ran twice: every contact exists exactly once.
    total = await scalar(url, select(func.count()).select_from(ContactRow).where(ContactRow.name.like("Contact U%")))
    distinct = await scalar(url, select(func.count(func.distinct(ContactRow.name))).where(ContactRow.name.like("Contact U%")))
    assert total == distinct == len(jobs)

    # Spread by the balancer, and each process counted what it was sent.
    sent = {name: s.responses_2xx - before.get(name, 0) for name, s in lb.stats().items()}
    assert sum(sent.values()) == len(jobs), sent
    for bot in cluster.bots:
        assert sent[bot.name] >= len(jobs) // (2 * len(cluster.bots)), sent
        samples = await cluster.metrics(http, bot)
        counted = metric_sum(samples, "rapport_commands_total", verb="add", platform="slack", outcome="ok")
        assert counted == sent[bot.name], (bot.name, counted, sent)


async def app_home_state_is_shared(standin, send) -> None:
    """A member opens the App Home (one process gets the event); their next commands reach
    the others through the balancer, and each refreshes the Home: who has it open is in the
    database, not in the memory of the process that saw it opened."""
    user = "U007"
    await send.open_home(user=user, team="T1")
    await standin.wait_for("views.publish", lambda c: c.params.get("user_id") == user, within=10)
    for i in range(PROCESSES):
        await send.ask(f"goal a role in product, take {i}", user=user, team="T1", within=10)
    publishes = await standin.wait_for("views.publish", lambda c: c.params.get("user_id") == user,
                                       within=10, count=1 + PROCESSES)
    assert len({c.token for c in publishes}) == PROCESSES, [c.token for c in publishes]


async def nudges_exactly_once_through_a_kill(cluster, standin, http, url):
    standin.hold_after(FREEZE_AFTER)
    ids = await seed_due_nudges(url, NUDGES)
    await asyncio.wait_for(standin.victim_chosen.wait(), 60)
    victim = next(bot for bot in cluster.bots if bot.token == standin.held_token)

    # Everything the victim delivered is marked sent before it dies; its other claims are in flight.
    delivered_by_victim = [nid for nid, token in standin.nudge_posts() if token == victim.token]

    async def victim_marked():
        states = await nudge_states(url, delivered_by_victim)
        return all(s == "sent" for s in states.values())

    try:
        await eventually(victim_marked, 10, "the victim's delivered nudges marked sent")
    except AssertionError:
        states = await nudge_states(url, delivered_by_victim)
        raise AssertionError(f"the victim's {len(delivered_by_victim)} delivered nudges: {Counter(states.values())}; "
                             f"{victim.log_path.read_text()[-3000:]}") from None
    await eventually(lambda: _true(standin.held_calls > 0), 10, "the victim has DMs in flight")
    victim_metrics = await cluster.metrics(http, victim)
    in_flight = await scalar(url, select(func.count()).select_from(Nudge).where(Nudge.status == "sending"))
    assert in_flight > 0, "the victim should die holding claimed nudges"
    cluster.kill(victim)
    killed_at = time.monotonic()
    assert await cluster.wait_exit(victim, 5) == -9

    async def all_sent():
        states = await nudge_states(url, ids)
        return all(s == "sent" for s in states.values()) and states

    await eventually(all_sent, LEASE + 60, "all 2,000 nudges sent")
    posts = standin.nudge_posts()
    per_nudge = Counter(nid for nid, _ in posts)
    assert set(per_nudge) == set(ids)
    twice = [nid for nid, n in per_nudge.items() if n != 1]
    assert not twice, f"{len(twice)} nudges delivered more than once, e.g. {twice[:5]}"
    # The ones frozen in flight went out once, from another process, after the victim died.
    assert standin.held_nudges
    senders = {nid: token for nid, token in posts}
    assert all(senders[nid] != victim.token for nid in standin.held_nudges)
    assert time.monotonic() - killed_at >= 0

    # /metrics agree with what the stand-in received, process by process.
    by_token = Counter(token for _, token in posts)
    assert metric_sum(victim_metrics, "rapport_nudges_total", outcome="sent") == by_token[victim.token]
    for bot in cluster.bots:
        if bot is victim:
            continue
        samples = await cluster.metrics(http, bot)
        assert metric_sum(samples, "rapport_nudges_total", outcome="sent") == by_token[bot.token], bot.name
        assert metric_sum(samples, "rapport_nudge_oldest_due_seconds") == 0
        assert metric_sum(samples, "rapport_sweep_seconds_count") > 0
    assert sum(by_token.values()) == NUDGES
    return victim


async def drain_on_sigterm(cluster, lb, send, http, victim, members) -> None:
    survivors = [bot for bot in cluster.bots if bot is not victim]
    leaving, staying = survivors
    readiness: list[tuple[float, int | None]] = []
    stop_polling = asyncio.Event()

    async def poll_readyz():
        while not stop_polling.is_set():
            try:
                async with http.get(f"{leaving.base}/readyz") as resp:
                    readiness.append((time.monotonic(), resp.status))
            except aiohttp.ClientError:
                readiness.append((time.monotonic(), None))
            await asyncio.sleep(0.05)

    async def load():
        replies = []
        for i in range(40):
            user = members[i % len(members)]
            replies.append(await send.ask(f"add Drain {user}-{i}", user=user, team="T1", within=10))
            await asyncio.sleep(0.05)
        return replies

    poller = asyncio.ensure_future(poll_readyz())
    traffic = asyncio.ensure_future(load())
    await asyncio.sleep(0.5)
    cluster.terminate(leaving)
    termed_at = time.monotonic()
    code = await cluster.wait_exit(leaving, 10)
    exited_in = time.monotonic() - termed_at
    replies = await traffic
    stop_polling.set()
    await poller

    assert code == 0 and exited_in < 10, (code, exited_in)
    after = [status for at, status in readiness if at > termed_at]
    assert 503 in after, f"/readyz never answered 503 while draining: {after[:20]}"
    # 503 came before the listener closed: once it says 503 it never says 200 again.
    first_503 = after.index(503)
    assert 200 not in after[first_503:]
    for i, reply in enumerate(replies):
        assert f"Drain {members[i % len(members)]}-{i}" in reply, reply
    stats = lb.stats()
    assert stats[leaving.name].status.startswith("DOWN") and stats[staying.name].status.startswith("UP"), stats
    async with http.get(f"{staying.base}/readyz") as resp:
        assert resp.status == 200


def logs_are_json_without_secrets(cluster) -> None:
    for bot in cluster.bots:
        text = bot.log_path.read_text()
        assert SECRET not in text and bot.token not in text, f"{bot.name} logged a secret"
        lines = [line for line in text.splitlines() if line.strip()]
        assert lines
        for line in lines:
            record = json.loads(line)  # one JSON object per line
            assert {"ts", "level", "logger", "message"} <= set(record)


async def _true(value: bool) -> bool:
    return value
