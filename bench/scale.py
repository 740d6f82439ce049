"""Scale-out: commands per second and p99 through HAProxy with 1 and with 3 processes on
PostgreSQL, and nudges per second delivered by 3 processes.

    python -m bench.scale [--postgres URL] [--commands 600] [--concurrency 50] [--rounds 4]
                          [--nudges 10000]

Two clusters run side by side, each on its own fresh PostgreSQL database behind its own
HAProxy (tests/scale: the same harness as the multi-process test): one ``python -m bot run``
process, and three. This process hosts the Slack Web API stand-in (zero added latency) and
sends signed ``/rapport goal ...`` commands through the balancer, ``--concurrency`` at a
time from 100 members. Rounds alternate between the clusters, 1-3 then 3-1, and each
round starts after a pause with both clusters idle. A warm-up round per cluster is not
counted. Time to response is until the ephemeral answer exists (the ack, or the
response_url post when the core took longer than the ack budget).

Then ``--nudges`` due thank-you nudges are written into the 3-process cluster's database and
the time until all are marked sent gives nudges per second (2 rounds).

On a 2-core machine the stand-in, HAProxy, PostgreSQL and the bot processes share the
cores: the ratio measures what a second and third process buy when CPU is the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.slack_latency import one_command, percentile

TEAM = "T1"


def cluster_cpu(cluster) -> float:
    from tests.scale.cluster import cpu_seconds

    return sum(cpu_seconds(bot.proc.pid) for bot in cluster.bots if bot.proc is not None)


async def command_round(sender, standin, users: list[str], commands: int, concurrency: int) -> tuple[float, list[float]]:
    gate = asyncio.Semaphore(concurrency)

    async def job(i: int) -> float:
        async with gate:
            return await one_command(sender, standin, f"goal product marketing, round robin {i}", users[i % len(users)],
                                     team=TEAM, within=60)

    started = time.monotonic()
    latencies = await asyncio.gather(*(job(i) for i in range(commands)))
    return commands / (time.monotonic() - started), list(latencies)


async def nudge_round(url: str, count: int, tag: str) -> float:
    from tests.scale.seed import nudge_states, seed_due_nudges

    ids = await seed_due_nudges(url, count, tag=tag)
    started = time.monotonic()
    while True:
        states = await nudge_states(url, ids)
        if all(s == "sent" for s in states.values()):
            return count / (time.monotonic() - started)
        if time.monotonic() - started > 600:
            raise RuntimeError("nudges not all sent within 10 minutes")
        await asyncio.sleep(0.2)


async def main(args) -> None:
    from tests.adapters.slack.slackreq import SlackSender
    from tests.scale.cluster import SECRET, Cluster, create_database, drop_database, token_of
    from tests.scale.haproxy import Balancer, ensure_haproxy
    from tests.scale.standin import ScaleStandIn

    haproxy = ensure_haproxy()
    standin = ScaleStandIn()
    await standin.start()
    users = [f"U{i:03d}" for i in range(100)]
    for i in range(3):
        standin.add_team(TEAM, token_of(i))
    for user in users:
        standin.add_user(user, TEAM, tz="UTC")
    tmp = tempfile.TemporaryDirectory(prefix="rapport-scale-")
    databases: list[str] = []
    clusters: dict[int, tuple[Cluster, Balancer, str]] = {}
    try:
        for n in (1, 3):
            name, url = await create_database(args.postgres, "rapport_bench")
            databases.append(name)
            work = Path(tmp.name) / f"n{n}"
            work.mkdir()
            cluster = Cluster(n, url, standin.api_url, work, RAPPORT_DISPATCH_INTERVAL="1", RAPPORT_DEFAULT_TZ="UTC")
            await cluster.start()
            lb = Balancer({bot.name: bot.port for bot in cluster.bots}, work)
            await lb.start(haproxy)
            clusters[n] = (cluster, lb, url)

        results: dict[int, list[tuple[float, list[float]]]] = {1: [], 3: []}
        cpu: dict[int, list[float]] = {1: [], 3: []}  # bot-process CPU ms per command
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            senders = {n: SlackSender(f"{lb.url}/slack/events", SECRET, standin, http) for n, (_, lb, _) in clusters.items()}
            for n in (1, 3):  # warm-up: members created, caches filled
                await command_round(senders[n], standin, users, args.commands // 2, args.concurrency)
            for r in range(args.rounds):
                for n in ((1, 3) if r % 2 == 0 else (3, 1)):
                    await asyncio.sleep(args.idle)  # both clusters idle before each round
                    before = cluster_cpu(clusters[n][0])
                    results[n].append(await command_round(senders[n], standin, users, args.commands, args.concurrency))
                    cpu[n].append((cluster_cpu(clusters[n][0]) - before) * 1000 / args.commands)

        print(f"{args.commands} signed `/rapport goal ...` per round through HAProxy, {args.concurrency} at a time "
              f"from {len(users)} members, {args.rounds} rounds per side (alternating), PostgreSQL, "
              f"{os.cpu_count()} CPU cores")
        rate = {}
        for n in (1, 3):
            rates = [x[0] for x in results[n]]
            lat = [v * 1000 for x in results[n] for v in x[1]]
            rate[n] = statistics.median(rates)
            print(f"  {n} process{'es' if n > 1 else '  '}: {rate[n]:6.0f} commands/s (median; rounds "
                  f"{', '.join(f'{x:.0f}' for x in rates)})   p50 {statistics.median(lat):6.1f} ms   "
                  f"p99 {percentile(lat, 99):6.1f} ms   bot CPU {statistics.median(cpu[n]):.1f} ms/command")
        print(f"  scaling 3 vs 1: {rate[3] / rate[1]:.2f}x; load average during the run: "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine counts)")

        cluster, _lb, url = clusters[3]
        await asyncio.sleep(args.idle)
        nudge_rates, nudge_cpu = [], []
        for r in range(2):
            before = cluster_cpu(cluster)
            nudge_rates.append(await nudge_round(url, args.nudges, tag=f"R{r}"))
            nudge_cpu.append((cluster_cpu(cluster) - before) * 1000 / args.nudges)
            await asyncio.sleep(args.idle)
        print(f"  nudges: {args.nudges:,} due, delivered by 3 processes to the zero-latency stand-in: "
              f"{', '.join(f'{x:,.0f}' for x in nudge_rates)} nudges/s; bot CPU "
              f"{', '.join(f'{x:.1f}' for x in nudge_cpu)} ms/nudge")
    except BaseException:
        for n, (_, lb, _) in clusters.items():
            print(f"--- HAProxy of the {n}-process cluster:\n{lb.log_tail()}")
        raise
    finally:
        for cluster, lb, _ in clusters.values():
            await lb.stop()
            await cluster.stop()
        await standin.stop()
        for name in databases:
            await drop_database(args.postgres, name)
        tmp.cleanup()


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_POSTGRES_URL",
                                                             "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--commands", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--nudges", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds both clusters idle before each round")
    asyncio.run(main(parser.parse_args(argv)))


if __name__ == "__main__":
    cli()
