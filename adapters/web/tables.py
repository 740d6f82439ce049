"""The dashboard's tables: one model that the page renders under each chart and the CSV
downloads serve, so the two always agree. Cells are text or whole numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from core import stats

Cell = str | int


@dataclass(frozen=True)
class Table:
    """A table: ``id`` names its CSV (``/dashboard/<id>.csv``); the first column heads rows."""

    id: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


TABLE_IDS = ("summary", "funnel", "first-offer", "fields", "weekly", "failures")


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def summary_table(data: stats.DashboardData) -> Table:
    return Table(
        "summary",
        f"Headline numbers, {data.period.label.lower()}",
        ("Measure", "Value"),
        tuple((label, value) for label, value in stats.summary_fields(data.summary)),
    )


def funnel_table(data: stats.DashboardData) -> Table:
    steps = data.funnel.steps()
    first = steps[0][1]
    rows: list[tuple[Cell, ...]] = []
    previous = first
    for index, (label, count) in enumerate(steps):
        rows.append((label, count, percent(count, first), "–" if index == 0 else percent(count, previous)))
        previous = count
    return Table(
        "funnel",
        f"Intro funnel for requests made {_span(data)}",
        ("Step", "Requests", "Of all requests", "Of the step before"),
        tuple(rows),
    )


def first_offer_table(data: stats.DashboardData) -> Table:
    t = data.offer_times
    rows: list[tuple[Cell, ...]] = [(label, count) for label, count in t.buckets]
    rows.append(("No offer yet", t.waiting))
    return Table(
        "first-offer",
        f"Time from request to first offer, requests made {_span(data)} (median {stats.fmt_hours(t.median_hours)})",
        ("Time to first offer", "Requests"),
        tuple(rows),
    )


def fields_table(data: stats.DashboardData) -> Table:
    f = data.fields
    rows: list[tuple[Cell, ...]] = []
    if f.unmatched.requests:
        rows.append((f.unmatched.field, f.unmatched.requests, f.unmatched.waiting, 0, 0))
    rows.extend((r.field, r.requests, r.waiting, r.helpers, r.with_capacity) for r in f.rows)
    return Table(
        "fields",
        f"Open requests made {_span(data)} by field, beside the helpers who list that field "
        "(with room: capacity left this month)",
        ("Field", "Open requests", "No offer yet", "Helpers", "With room"),
        tuple(rows),
    )


def weekly_table(data: stats.DashboardData) -> Table:
    return Table(
        "weekly",
        f"Active members per week (weeks start on Monday, UTC), {data.period.label.lower()}",
        ("Week of", "Active members"),
        tuple((day.isoformat(), count) for day, count in data.weekly.weeks),
    )


def failures_table(data: stats.DashboardData) -> Table:
    return Table(
        "failures",
        f"Nudges that couldn't be delivered, by reason, {data.period.label.lower()}",
        ("Reason", "Failed nudges"),
        tuple((stats.REASON_LABELS[reason], count) for reason, count in data.failures.by_reason),
    )


def all_tables(data: stats.DashboardData) -> dict[str, Table]:
    """Every table of the page, by id, in page order."""
    tables = (
        summary_table(data),
        funnel_table(data),
        first_offer_table(data),
        fields_table(data),
        weekly_table(data),
        failures_table(data),
    )
    return {t.id: t for t in tables}


def _span(data: stats.DashboardData) -> str:
    label = data.period.label.lower()
    return "at any time" if data.period.start is None else f"in the {label}" if label.startswith("last") else label


# --- CSV -----------------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Cell) -> Cell:
    """A text cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab,
    carriage return first) gets a leading apostrophe; numbers are left as they are."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def to_csv(table: Table) -> str:
    """The table as CSV text (header row first), every text cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([neutralise(c) for c in _as_list(row)])
    return out.getvalue()


def _as_list(row: Sequence[Cell]) -> list[Cell]:
    return list(row)
