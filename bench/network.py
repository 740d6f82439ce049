"""Importing a network and drawing it: time and memory at sizes members will have.

    python -m bench.network [--out DIR]

Figures printed:
- parse + plan 5,000 LinkedIn-shaped connections (a Connections.csv with the Notes
  preamble), against 500 existing contacts;
- build + render the network map at 5, 300 and 5,000 contacts;
- the same through the core's front door on a real database (SQLite, and PostgreSQL when
  RAPPORT_TEST_POSTGRES_URL is set): a member with five real relationships imports a
  Connections.csv (the preview, then Confirm), then asks for `map`, at 300 and 5,000
  connections. The maps written for 5 and 300 contacts are these, as members get them.
Each in its own process, so peak memory (max RSS) is that step's alone; a map is rendered
twice, the first time loading matplotlib. Sample maps for 5
and 300 contacts are written to --out (a temp folder by default) to look at.

Wall and CPU seconds both: on a shared machine CPU time is the steadier figure.
Targets: parse + plan 5,000 rows well under a second; a map at any size under 5 s and
under 300 MB peak.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST = [
    "Ana",
    "Bob",
    "Carla",
    "Dev",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vik",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Chloe",
    "Diego",
]
LAST = [
    "Ruiz",
    "Li",
    "Novak",
    "Shah",
    "Kaya",
    "Haddad",
    "Berg",
    "Sato",
    "Petrov",
    "Chen",
    "Mensah",
    "Fischer",
    "Rossi",
    "Karim",
    "Aziz",
    "Patel",
    "Moreau",
    "Silva",
    "Lind",
    "Qureshi",
    "Rao",
    "Nair",
    "Wang",
    "Ortega",
    "Demir",
    "Okafor",
    "Costa",
    "Dubois",
    "Lopez",
    "Kim",
]
COMPANIES = (
    "Acme Analytics",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella Health",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Pied Piper",
    "Vandelay Imports",
    "Soylent",
    "Tyrell Corp",
    "Cyberdyne",
    "Wonka Labs",
    "Oscorp",
    "Gringotts",
    "Monsters Inc",
    "Dunder Mifflin",
    "Aperture Science",
    "Black Mesa",
)
POSITIONS = ("Product Manager", "Data Analyst", "Engineering Manager", "UX Researcher", "Recruiter")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def company(rng: random.Random) -> str:
    # a few big employers, a long tail: as a real network looks
    return COMPANIES[min(len(COMPANIES) - 1, int(rng.expovariate(0.25)))]


def linkedin_csv(rows: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    lines = [
        "Notes:",
        '"When exporting your connection data, you may notice that some of the email '
        "addresses are missing. You will only see email addresses for connections who have "
        'allowed their connections to see or download their email address."',
        "",
        "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
    ]
    for i in range(rows):
        first, last = name(rng)
        email = f"{first}.{last}{i}@example.com".lower() if rng.random() < 0.3 else ""
        lines.append(
            f"{first},{last},https://www.linkedin.com/in/{first}-{last}-{i}".lower()
            + f',{email},"{company(rng)}",{rng.choice(POSITIONS)},{rng.randint(1, 28)} Mar 2024'
        )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def sample_network(total: int, seed: int = 7):
    """A member's network: a handful of real relationships with referral chains, and the
    rest imported from LinkedIn and never touched."""
    from core.netmap import MapContact

    rng = random.Random(seed)
    if total <= 5:
        people = [
            MapContact(1, "Jane Doe", "Acme Analytics", "met", thank_you_owed=True),
            MapContact(2, "Bob Li", "Northwind", "scheduled", referred_by_contact_id=1),
            MapContact(3, "Ana Ruiz", "Globex", "new", referred_by_contact_id=2),
            MapContact(4, "Priya Shah", "Hooli", "reached-out"),
            MapContact(5, "Carol Mensah", "Initech", "replied", referred_by_member="Dana Kim"),
        ]
        return people[:total]
    people = []
    active = max(12, min(40, total // 10))
    statuses = ["met"] * 4 + ["reached-out"] * 3 + ["replied", "scheduled", "new"]
    for i in range(1, active + 1):
        first, last = name(rng)
        status = rng.choice(statuses)
        ref_contact = rng.choice([p.id for p in people]) if people and rng.random() < 0.45 else None
        ref_member = (
            rng.choice(["Dana Kim", "Luis Ortega"])
            if not ref_contact and rng.random() < 0.15
            else None
        )
        people.append(
            MapContact(
                i, f"{first} {last}", company(rng), status,
                referred_by_contact_id=ref_contact, referred_by_member=ref_member,
                thank_you_owed=status == "met" and rng.random() < 0.3,
            )
        )  # fmt: skip
    for i in range(active + 1, total + 1):
        first, last = name(rng)
        people.append(
            MapContact(i, f"{first} {last}", company(rng), "new", imported_untouched=True)
        )
    return people


# --- measured steps, each run in a child process ---------------------------------------------


def step_import(rows: int) -> dict:
    from core.importing import Existing, parse_contacts, plan_import

    data = linkedin_csv(rows)
    existing = [
        Existing(i, f"{FIRST[i % 30]} {LAST[i % 29]}", f"x{i}@example.com") for i in range(500)
    ]
    started, cpu_started = time.perf_counter(), time.process_time()
    people = parse_contacts(data, "Connections.csv")
    parsed, cpu_parsed = time.perf_counter(), time.process_time()
    plan = plan_import(existing, people)
    planned, cpu_planned = time.perf_counter(), time.process_time()
    return {
        "rows": len(people),
        "bytes": len(data),
        "parse_s": parsed - started,
        "plan_s": planned - parsed,
        "parse_cpu_s": cpu_parsed - cpu_started,
        "plan_cpu_s": cpu_planned - cpu_parsed,
        "new": len(plan.new),
        "matched": plan.matched,
        "peak_mb": peak_mb(),
    }


def step_map(total: int, out: str | None) -> dict:
    from core import netmap

    contacts = sample_network(total)
    started = time.perf_counter()
    graph = netmap.build_graph("Sam Rivera", contacts)
    built = time.perf_counter()
    png = netmap.render_png(graph, "Sam Rivera's network")
    rendered = time.perf_counter()
    cpu_before = time.process_time()
    netmap.render_png(graph, "Sam Rivera's network")
    again, cpu_again = time.perf_counter(), time.process_time()
    if out:
        Path(out).write_bytes(png)
    return {
        "contacts": total,
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "build_s": built - started,
        "render_s": rendered - built,  # the first, which loads matplotlib
        "render_again_s": again - rendered,
        "render_again_cpu_s": cpu_again - cpu_before,
        "png_kb": len(png) / 1024,
        "peak_mb": peak_mb(),
    }


STORY = (
    "log Jane Doe when: 3 days ago company: Acme Analytics notes: talked about SEO referrals: Bob Li",
    "reached-out Bob Li via: email",
    "add Ana Ruiz company: Globex referred-by: Bob Li",
    "scheduled Priya Shah when: tomorrow 10am",
    "add Carol Mensah company: Initech",
)


async def _core_run(rows: int, url: str | None) -> dict:
    import uuid

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from core.clock import SystemClock
    from core.db import Database, make_engine, upgrade
    from core.service import Actor, Rapport

    schema = None
    if url:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_async_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        engine = make_engine(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='rapport-bench-')}/bench.db")
    try:
        await upgrade(engine)
        core = Rapport(Database(engine), SystemClock())
        actor = Actor("console", "local", "me", "Sam Rivera")
        for line in STORY:
            reply = await core.run_text(actor, line)
            assert not reply.error, reply.text
        result: dict = {"rows": rows, "backend": "postgresql" if url else "sqlite"}
        if rows:
            data = linkedin_csv(rows)
            started = time.perf_counter()
            preview = await core.import_file(actor, "Connections.csv", data)
            previewed = time.perf_counter()
            confirm = next(b.action_id for b in preview.buttons if b.action_id.startswith("import:confirm:"))
            done = await core.press(actor, confirm)
            imported = time.perf_counter()
            assert not done.error, done.text
            result.update(preview_s=previewed - started, confirm_s=imported - previewed, summary=done.text)
        started = time.perf_counter()
        first = await core.run_text(actor, "map")
        mapped = time.perf_counter()
        again = await core.run_text(actor, "map")
        mapped_again = time.perf_counter()
        assert first.files and again.files, first.text
        result.update(map_first_s=mapped - started, map_s=mapped_again - mapped, png_kb=len(again.files[0].content) / 1024,
                      caption=again.text, peak_mb=peak_mb())
        result["png"] = again.files[0].content
        return result
    finally:
        await engine.dispose()
        if schema:
            admin = create_async_engine(url)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def step_core(rows: int, backend: str, out: str | None) -> dict:
    import asyncio
    import os

    url = os.environ.get("RAPPORT_TEST_POSTGRES_URL") if backend == "postgresql" else None
    result = asyncio.run(_core_run(rows, url))
    png = result.pop("png")
    if out:
        Path(out).write_bytes(png)
    return result


def child(args: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.network", "--child", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", help="folder for the sample PNGs (default: a temp folder)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "import":
            print(json.dumps(step_import(int(rest[0]))))
        elif kind == "core":
            print(json.dumps(step_core(int(rest[0]), rest[1], rest[2] if len(rest) > 2 else None)))
        else:
            print(json.dumps(step_map(int(rest[0]), rest[1] if len(rest) > 1 else None)))
        return

    out = Path(args.out or tempfile.mkdtemp(prefix="rapport-map-"))
    out.mkdir(parents=True, exist_ok=True)
    r = child(["import", "5000"])
    print(
        f"import  {r['rows']:>5} rows ({r['bytes'] / 1024:.0f} KB): "
        f"parse {r['parse_s']:.3f} s (CPU {r['parse_cpu_s']:.3f} s), "
        f"plan {r['plan_s']:.3f} s (CPU {r['plan_cpu_s']:.3f} s; "
        f"{r['new']} new, {r['matched']} matched), "
        f"peak {r['peak_mb']:.0f} MB"
    )
    for total in (5, 300, 5000):
        path = str(out / f"map-{total}.png") if total in (5, 300) else None
        r = child(["map", str(total), *([path] if path else [])])
        print(
            f"map    {total:>5} contacts -> {r['nodes']:>3} nodes, {r['edges']:>3} edges: "
            f"build {r['build_s']:.3f} s, render {r['render_again_s']:.2f} s "
            f"(CPU {r['render_again_cpu_s']:.2f} s) "
            f"(first {r['render_s']:.2f} s, loading matplotlib), PNG {r['png_kb']:.0f} KB, "
            f"peak {r['peak_mb']:.0f} MB"
        )
    import os

    backends = ["sqlite"] + (["postgresql"] if os.environ.get("RAPPORT_TEST_POSTGRES_URL") else [])
    for backend in backends:
        for rows in (0, 295, 4995):
            total = rows + len(STORY)
            path = str(out / f"core-map-{total}.png") if backend == "sqlite" and total in (5, 300) else None
            r = child(["core", str(rows), backend, *([path] if path else [])])
            imported = (
                f"import {rows:>4} rows: preview {r['preview_s']:.2f} s, confirm {r['confirm_s']:.2f} s; "
                if rows else "no import; "
            )
            print(
                f"core   {backend:<10} {total:>5} contacts: {imported}map {r['map_s']:.2f} s "
                f"(first {r['map_first_s']:.2f} s), PNG {r['png_kb']:.0f} KB, peak {r['peak_mb']:.0f} MB"
            )
    print(f"sample maps: {out}/map-5.png, {out}/map-300.png; as members get them: {out}/core-map-5.png, {out}/core-map-300.png")


if __name__ == "__main__":
    main()
