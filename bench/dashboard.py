"""The organizers' dashboard on a big community: how fast the page answers.

    python -m bench.dashboard [--postgres URL] [--members 10000] [--meetings 100000] [--repeat 40] [--keep]

Seeds, in a fresh PostgreSQL schema, one community of 10,000 members with 100,000 held
meetings and proportionate rest (120,000 contacts, 100,000 outreach, 20,000 intro requests
and 15,000 offers, 1,000 helpers, 300,000 nudges of which 2% failed, 5% of members landed),
plus a second community a tenth that size that must stay out of the numbers. Rows go in with
COPY; then ANALYZE. Then it times, for each period of the picker:

- the page's data: ``Dashboard.data`` (every aggregate, one read transaction);
- the whole page through HTTP: ``GET /dashboard?period=...`` with a signed-in cookie, the
  real aiohttp routes on 127.0.0.1, HTML rendered (client and server in one process),
  cold (every request reads the database) and warm (the page again within the minute the
  bot reuses a page's numbers);
- one CSV download, and ``admin stats``' two summaries (last 30 days, all time).

It prints p50 / p99 / max in milliseconds over ``--repeat`` requests after two warm-ups.
Target: the page under 300 ms. The schema is dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import time
import uuid

NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=dt.UTC)
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
FIELDS = [
    "product marketing", "data science", "ux research", "product design", "software engineering",
    "frontend", "backend", "devops", "sales", "customer success", "finance", "accounting", "nursing",
    "teaching", "policy", "nonprofit", "hr", "recruiting", "project management", "supply chain",
    "cybersecurity", "machine learning", "content marketing", "seo", "saas", "fintech", "healthcare",
    "biotech", "journalism", "law",
]
ASKS = FIELDS + ["game design", "architecture", "social work", "veterinary medicine", "urban planning"]
ERRORS = [
    "Slack: cannot_dm_bot", "Slack: messages_tab_disabled", "Slack: user_not_found", "Slack: account_inactive",
    "DM to 1: 403 50007 Cannot send messages to this user", "DM to 1: 404 10013 Unknown User", "gave up",
    "DM to 1: HTTP 503", "Slack: token_revoked",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _fmt(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"p50 {statistics.median(ms):6.1f} ms   p99 {_pct(ms, 0.99):6.1f} ms   max {max(ms):6.1f} ms"


async def seed(dsn: str, schema: str, members: int, meetings: int) -> dict[str, int]:
    """Bulk-loads the community with COPY; returns the row counts."""
    import asyncpg

    rng = random.Random(14)
    conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    start = NOW - dt.timedelta(days=730)
    span = (NOW - start).total_seconds()

    def when(after: dt.datetime = start) -> dt.datetime:
        room = (NOW - after).total_seconds()
        return after + dt.timedelta(seconds=rng.random() * room)

    def soon(after: dt.datetime, days: float) -> dt.datetime:
        """A moment within ``days`` after ``after``, never later than NOW."""
        return min(NOW, after + dt.timedelta(seconds=rng.random() * days * 86400))

    counts: dict[str, int] = {}
    small = max(1, members // 10)
    # Members: the big community, then a small one that must not leak into the numbers.
    member_rows = []
    joined: list[dt.datetime] = []
    for i in range(members + small):
        big = i < members
        created = start + dt.timedelta(seconds=rng.random() * span * 0.8)
        joined.append(created)
        landed = when(created) if rng.random() < 0.05 else None
        member_rows.append((i + 1, "slack", "TBIG" if big else "TSMALL", f"U{i}", f"Member {i}", "21:00", "08:00", 90,
                            False, False, landed, "somewhere" if landed else None, created))
    await conn.copy_records_to_table("members", records=member_rows, columns=[
        "id", "platform", "workspace_id", "user_id", "display_name", "quiet_start", "quiet_end",
        "stay_in_touch_days", "digest", "dm_failed_notice", "landed_at", "landed_text", "created_at"])
    counts["members"] = len(member_rows)
    total_members = members + small
    await conn.copy_records_to_table("communities", records=[
        (1, "slack", "TBIG", "C1", start), (2, "slack", "TSMALL", "C2", start)],
        columns=["id", "platform", "workspace_id", "intro_channel_id", "created_at"])

    helpers = rng.sample(range(1, members + 1), members // 10) + rng.sample(range(members + 1, total_members + 1), small // 10)
    await conn.copy_records_to_table("helper_offers", records=[
        (n + 1, m, ", ".join(rng.sample(FIELDS, rng.randint(1, 3))), None, rng.randint(1, 4), rng.random() < 0.9, None, start)
        for n, m in enumerate(helpers)],
        columns=["id", "member_id", "fields", "companies", "per_month", "active", "last_asked_at", "created_at"])
    counts["helper_offers"] = len(helpers)

    # Contacts: 12 per member on average.
    contacts = []
    owner_of: list[int] = []
    for c in range(int(total_members * 12)):
        owner = rng.randint(1, total_members)
        owner_of.append(owner)
        created = when(joined[owner - 1])
        contacts.append((c + 1, owner, f"Contact {c}", f"contact {c}", "met", False, None, created))
    await conn.copy_records_to_table("contacts", records=contacts, columns=[
        "id", "member_id", "name", "name_key", "status", "referrals_pending", "linked_user_id", "created_at"])
    counts["contacts"] = len(contacts)

    meeting_rows = []
    for m in range(meetings + meetings // 10):
        contact = rng.randint(1, len(contacts))
        owner = owner_of[contact - 1]
        at = soon(contacts[contact - 1][7], 45)
        roll = rng.random()
        thanked = at + dt.timedelta(hours=rng.uniform(1, 20)) if roll < 0.7 else (
            at + dt.timedelta(hours=rng.uniform(25, 90)) if roll < 0.85 else None)
        meeting_rows.append((m + 1, owner, contact, at, "held", thanked, at + dt.timedelta(hours=rng.uniform(0.5, 30))))
    await conn.copy_records_to_table("meetings", records=meeting_rows, columns=[
        "id", "member_id", "contact_id", "at", "status", "thanked_at", "created_at"])
    counts["meetings"] = len(meeting_rows)

    await conn.copy_records_to_table("outreach", records=[
        (o + 1, owner_of[(c := rng.randint(1, len(contacts))) - 1], c, soon(contacts[c - 1][7], 10))
        for o in range(len(meeting_rows))], columns=["id", "member_id", "contact_id", "at"])
    counts["outreach"] = len(meeting_rows)

    requests, offers = [], []
    for r in range(total_members * 2):
        seeker = rng.randint(1, total_members)
        community = 1 if seeker <= members else 2
        created = when(joined[seeker - 1])
        direct = rng.random() < 0.3
        target = rng.choice(helpers) if direct else None
        offered = rng.random() < 0.7
        first = created + dt.timedelta(hours=rng.expovariate(1 / 20)) if offered else None
        if first is not None and first > NOW:
            first = None
        recent = (NOW - created).days < 30
        status = ("accepted" if first else "declined") if direct else ("open" if recent or rng.random() < 0.03 else "closed")
        requests.append((r + 1, seeker, community, f"Looking for {rng.choice(ASKS)} people at a startup",
                         target, status, created, first, first if direct else None))
        if offered and first is not None and not direct:
            contact = rng.randint(1, len(contacts))
            offers.append((len(offers) + 1, r + 1, rng.choice(helpers), rng.choice(["glad", "know"]), contact, first))
    await conn.copy_records_to_table("intro_requests", records=requests, columns=[
        "id", "member_id", "community_id", "what", "target_member_id", "status", "created_at", "first_offer_at", "answered_at"])
    await conn.copy_records_to_table("intro_offers", records=offers, columns=[
        "id", "request_id", "helper_member_id", "kind", "contact_id", "created_at"])
    counts["intro_requests"], counts["intro_offers"] = len(requests), len(offers)

    nudges = []
    for k in range(len(meeting_rows) * 3):
        owner = rng.randint(1, total_members)
        due = when(joined[owner - 1])
        failed = rng.random() < 0.02
        status = "failed" if failed else rng.choice(["done", "sent", "skipped", "cancelled", "pending"])
        nudges.append((k + 1, owner, "thank-you", due, status, 1, rng.choice(ERRORS) if failed else None, due,
                       due if status != "pending" else None))
    await conn.copy_records_to_table("nudges", records=nudges, columns=[
        "id", "member_id", "kind", "due_at", "status", "attempts", "last_error", "created_at", "closed_at"])
    counts["nudges"] = len(nudges)

    for table in ("members", "communities", "helper_offers", "contacts", "meetings", "outreach", "intro_requests",
                  "intro_offers", "nudges"):
        await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    await conn.execute("ANALYZE")
    await conn.close()
    return counts


async def main(args: argparse.Namespace) -> None:
    import aiohttp
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from adapters.web import DashboardRoutes
    from bot.web import WebServer
    from core import stats
    from core.clock import FakeClock
    from core.dashboard import Dashboard, Organizer
    from core.db import Database, make_engine, upgrade

    url = args.postgres
    schema = f"bench_dash_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    server = None
    try:
        await upgrade(engine)
        t0 = time.perf_counter()
        counts = await seed(url.replace("postgresql+asyncpg", "postgresql"), schema, args.members, args.meetings)
        print(f"seeded in {time.perf_counter() - t0:.1f} s (COPY + ANALYZE): "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items()))

        db = Database(engine)
        # Cold: every request reads the database (no reuse of a page's numbers); warm: the
        # bot as configured, where a page's numbers are reused for a minute.
        dashboard = Dashboard(db, FakeClock(NOW), cache_ttl=dt.timedelta(0))
        warm_dashboard = Dashboard(db, FakeClock(NOW))
        organizer = Organizer("slack", "TBIG", "U0")
        server = WebServer("127.0.0.1", 0)
        server.add_routes(DashboardRoutes(dashboard).routes())
        await server.start()
        warm_server = WebServer("127.0.0.1", 0)
        warm_server.add_routes(DashboardRoutes(warm_dashboard).routes())
        await warm_server.start()
        base = f"http://127.0.0.1:{server.port}"
        warm_base = f"http://127.0.0.1:{warm_server.port}"
        signed = await dashboard.sign_in((await dashboard.create_link(organizer)).token)
        cookies = {"rapport_session": signed.cookie}

        print(f"\n{args.repeat} requests each after 2 warm-ups; target: the page under 300 ms")
        async with aiohttp.ClientSession(cookies=cookies) as http:
            for key in stats.PERIOD_KEYS:
                data_times, page_times = [], []
                for i in range(args.repeat + 2):
                    t = time.perf_counter()
                    data = await dashboard.data(signed.viewer, key)
                    if i >= 2:
                        data_times.append(time.perf_counter() - t)
                for i in range(args.repeat + 2):
                    t = time.perf_counter()
                    async with http.get(f"{base}/dashboard?period={key}") as r:
                        body = await r.read()
                        assert r.status == 200, r.status
                    if i >= 2:
                        page_times.append(time.perf_counter() - t)
                warm_times = []
                for i in range(args.repeat + 2):
                    t = time.perf_counter()
                    async with http.get(f"{warm_base}/dashboard?period={key}") as r:
                        await r.read()
                    if i >= 2:
                        warm_times.append(time.perf_counter() - t)
                label = stats.PERIOD_LABELS[key]
                print(f"  {label:<13} data  {_fmt(data_times)}   ({data.funnel.requests:,} requests, "
                      f"{data.summary.meetings:,} meetings)")
                print(f"  {'':<13} page  {_fmt(page_times)}   ({len(body) / 1024:.0f} KB of HTML)")
                print(f"  {'':<13} warm  {_fmt(warm_times)}   (the page again within a minute)")
            csv_times = []
            for i in range(args.repeat + 2):
                t = time.perf_counter()
                async with http.get(f"{base}/dashboard/funnel.csv?period=all") as r:
                    await r.read()
                if i >= 2:
                    csv_times.append(time.perf_counter() - t)
            print(f"  {'CSV (all)':<13} http  {_fmt(csv_times)}")
        summary_times = []
        for i in range(args.repeat + 2):
            t = time.perf_counter()
            async with db.read() as session:
                for key in ("30d", "all"):
                    await stats.summary(session, organizer.community, stats.period_for(key, NOW), NOW)
            if i >= 2:
                summary_times.append(time.perf_counter() - t)
        print(f"  {'admin stats':<13} both  {_fmt(summary_times)}   (last 30 days + all time)")
    finally:
        if server is not None:
            await server.stop()
            await warm_server.stop()
        await engine.dispose()
        if not args.keep:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        else:
            print(f"kept schema {schema}")
        await admin.dispose()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("RAPPORT_TEST_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the seeded schema (to EXPLAIN queries)")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
