"""The dashboard's HTML, rendered on the server: the page, the sign-in page, and the short
pages that say why someone can't get in. No script; every outside-facing text is escaped.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from urllib.parse import quote

from adapters.web import charts
from adapters.web.style import CSS_PATH
from adapters.web.tables import Table, all_tables
from core import stats
from core.dashboard import Viewer

PLATFORM_NAMES = {"slack": "Slack workspace", "discord": "Discord server", "console": "Console community"}
NEVER_SHOWN = (
    "Aggregates only: this page never shows a member's notes, contacts, drafts or messages, "
    "and no one's name."
)
ASK_FOR_A_LINK = "Type <code>/rapport admin dashboard</code> in chat for a sign-in link."


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _when(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.UTC)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def community_label(community: stats.CommunityKey) -> str:
    kind = PLATFORM_NAMES.get(community.platform, community.platform.title())
    return f"{kind} {community.workspace_id}" if community.workspace_id not in ("", "local") else kind


def _shell(title: str, body: str, *, solo: bool = False) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow">'
        '<meta name="referrer" content="no-referrer">'
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{CSS_PATH}">'
        f"<title>{_e(title)}</title></head>"
        f'<body{" class=solo" if solo else ""}>{body}</body></html>\n'
    )


def message_page(title: str, message_html: str, *, action_html: str = "") -> str:
    """A small centred page: a refusal, a signed-out note, an error. ``message_html`` is
    trusted markup (the callers build it from fixed copy)."""
    body = (
        '<main class="panel" id="main">'
        f'<div class="logo" aria-hidden="true">R</div><h1>{_e(title)}</h1><p>{message_html}</p>{action_html}</main>'
    )
    return _shell(f"{title} · Rapport", body, solo=True)


def login_page(token: str, nonce: str, *, note: str = "") -> str:
    """The page a sign-in link opens: it signs no one in by itself (link previews fetch it);
    the button does."""
    action = "/dashboard/login/" + quote(token, safe="")
    form = (
        f'<form method="post" action="{_e(action)}">'
        f'<input type="hidden" name="nonce" value="{_e(nonce)}">'
        '<button class="primary" type="submit">Sign in</button></form>'
    )
    extra = f'<p role="alert">{_e(note)}</p>' if note else ""
    return message_page(
        "Your community dashboard",
        "This link signs you in to your community's dashboard for a day. It works once, for the next few minutes.",
        action_html=extra + form,
    )


def _table_html(table: Table, period_key: str) -> str:
    head = "".join(
        f'<th scope="col"{" class=num" if i else ""}>{_e(c)}</th>' for i, c in enumerate(table.columns)
    )
    rows = []
    for row in table.rows:
        cells = [f'<th scope="row">{_e(row[0])}</th>']
        cells += [f'<td class="num">{_e(c)}</td>' for c in row[1:]]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    href = _csv_href(table.id, period_key)
    return (
        f'<div class="table-wrap"><table id="table-{table.id}"><caption>{_e(table.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="csv"><a href="{_e(href)}" download>Download this table (CSV)</a></p>'
    )


def _csv_href(table_id: str, period_key: str) -> str:
    return f"/dashboard/{table_id}.csv?period={quote(period_key)}"


_SHARE = re.compile(r"^(\d+ of \d+) \((\d+%)\)$")


def _card(label: str, value: str, *, warn: bool = False) -> str:
    """A headline number; "3 of 5 (60%)" shows 60% large with "3 of 5" under it."""
    sub = ""
    if m := _SHARE.match(value):
        value, sub = m.group(2), m.group(1)
    return (
        f'<li class="card{" warn" if warn else ""}"><span class="k">{_e(label).replace(" h", "&nbsp;h")}</span>'
        f'<span class="v">{_e(value)}</span>' + (f'<span class="sub">{_e(sub)}</span>' if sub else "") + "</li>"
    )


def _panel(panel_id: str, title: str, lede: str, inner: str, *, wide: bool = False) -> str:
    return (
        f'<section class="panel{" wide" if wide else ""}" id="{panel_id}" aria-labelledby="{panel_id}-h">'
        f'<h2 id="{panel_id}-h">{_e(title)}</h2><p class="lede">{_e(lede)}</p>{inner}</section>'
    )


def _biggest_drop(f: stats.Funnel) -> str:
    steps = f.steps()[:-1]  # landing takes months; the loop's own steps are the first four
    if not f.requests:
        return ""
    drops = [
        (steps[i][1] - steps[i + 1][1], steps[i], steps[i + 1]) for i in range(len(steps) - 1) if steps[i][1]
    ]
    drops = [d for d in drops if d[0] > 0]
    if not drops:
        return "Every request got an offer, a meeting and a timely thank-you. Lovely."
    _, (a, na), (b, nb) = max(drops, key=lambda d: (d[0] / d[1][1], d[0]))
    return f"The biggest drop is from “{a}” ({na}) to “{b}” ({nb}): that's where the loop breaks most."


def dashboard_page(data: stats.DashboardData, viewer: Viewer, now: dt.datetime) -> str:
    """The whole dashboard for one community and period."""
    period_key = data.period.key or stats.DEFAULT_PERIOD
    tables = all_tables(data)
    community = community_label(data.community)
    periods = "".join(
        f'<a href="/dashboard?period={key}"' + (' aria-current="page"' if key == period_key else "") + f">{_e(label)}</a>"
        for key, label in stats.PERIOD_LABELS.items()
    )
    header = (
        '<a class="skip" href="#main">Skip to the numbers</a>'
        '<header class="top"><div class="wrap">'
        '<div class="brand"><span class="logo" aria-hidden="true">R</span><span>Rapport · Organizers</span></div>'
        f'<div class="who"><span>{_e(community)}</span>'
        '<form class="inline" method="post" action="/dashboard/logout">'
        f'<input type="hidden" name="csrf" value="{_e(viewer.csrf)}">'
        '<button type="submit">Log out</button></form></div>'
        "</div></header>"
    )
    s = data.summary
    cards = "".join(_card(label, value, warn=label == "Failed nudges" and s.failed > 0) for label, value in stats.summary_fields(s))
    intro = (
        '<div class="intro"><div><h1>Are introductions happening?</h1>'
        f'<p class="lede">{_e(community)} · {_e(data.period.label)}. Numbers as of {_e(_when(now))}.</p></div>'
        f'<nav class="periods" aria-label="Period">{periods}</nav></div>'
        f'<ul class="cards" aria-label="Headline numbers">{cards}</ul>'
        f'<p class="cards-foot csv"><a href="{_e(_csv_href("summary", period_key))}" download>'
        "Download the headline numbers (CSV)</a> · the same numbers as <code>/rapport admin stats</code> in chat</p>"
    )
    panels = [
        _funnel_panel(data, tables["funnel"], period_key),
        _first_offer_panel(data, tables["first-offer"], period_key),
        _fields_panel(data, tables["fields"], period_key),
        _weekly_panel(data, tables["weekly"], period_key),
        _failures_panel(data, tables["failures"], period_key),
    ]
    footer = (
        '<footer><div class="wrap">'
        f"<p>{_e(NEVER_SHOWN)}</p>"
        f"<p>You're signed in until {_e(_when(viewer.expires_at))}. "
        "Log out here, or end every session from chat with <code>/rapport admin dashboard logout</code>.</p>"
        "</div></footer>"
    )
    body = header + f'<main id="main"><div class="wrap">{intro}<div class="panels">{"".join(panels)}</div></div></main>' + footer
    return _shell(f"{community} · Rapport dashboard", body)


def _funnel_panel(data: stats.DashboardData, table: Table, period_key: str) -> str:
    f = data.funnel
    if f.requests:
        drop = _biggest_drop(f)
        chart = (f'<p class="insight">{_e(drop)}</p>' if drop else "") + (
            f"<figure>{charts.funnel('funnel-chart', f.steps())}</figure>"
        )
        if f.landed_seekers > f.landed:
            chart += (
                f'<p class="lede">{f.landed_seekers} member{"s" if f.landed_seekers != 1 else ""} who asked in this period '
                "have landed, counting those who skipped a step.</p>"
            )
    else:
        chart = '<p class="empty">No intro requests in this period yet.</p>'
    return _panel(
        "funnel",
        "Intro funnel",
        "Each request made in the period, followed down the loop: did it get an offer, did the seeker meet "
        "the person, thank them within a day, and land?",
        f'<div class="split"><div>{chart}</div><div>{_table_html(table, period_key)}</div></div>',
        wide=True,
    )


SHORT_BUCKETS = ("< 1 h", "1–6 h", "6–24 h", "1–3 days", "3–7 days", "> 7 days")


def _first_offer_panel(data: stats.DashboardData, table: Table, period_key: str) -> str:
    t = data.offer_times
    if t.answered:
        bars = list(zip(SHORT_BUCKETS, (n for _, n in t.buckets), strict=True))
        insight = f"Median time to a first offer: {stats.fmt_hours(t.median_hours)}."
        if t.waiting:
            insight += f" {t.waiting} request{'s' if t.waiting != 1 else ''} still {'have' if t.waiting != 1 else 'has'} no offer."
        inner = f'<p class="insight">{_e(insight)}</p><figure>{charts.columns("first-offer-chart", "Time to first offer", bars)}</figure>'
    else:
        inner = '<p class="empty">No request in this period has had an offer yet.</p>'
    return _panel(
        "first-offer",
        "Time to first offer",
        "How long seekers wait between asking and the first helper stepping in.",
        inner + _table_html(table, period_key),
    )


def _fields_panel(data: stats.DashboardData, table: Table, period_key: str) -> str:
    f = data.fields
    rows = [(r.field, r.requests, r.with_capacity) for r in f.rows]
    flagged = None
    if f.unmatched.requests:
        rows.insert(0, (f.unmatched.field, f.unmatched.requests, 0))
        flagged = 0
    inner = ""
    if f.unmatched.requests:
        words = ", ".join(w for w, _ in f.unmatched_words[:5])
        text = (
            f"{f.unmatched.requests} open request{'s' if f.unmatched.requests != 1 else ''} "
            f"match{'es' if f.unmatched.requests == 1 else ''} no helper's field"
            + (f"; they mention {words}. That's whom to recruit." if words else ". That's whom to recruit.")
        )
        inner += f'<p class="insight warn">{_e(text)}</p>'
    short = [r for r in f.rows if r.requests > r.with_capacity]
    if short:
        inner += (
            '<p class="insight warn">'
            + _e("More open requests than helpers with room this month: " + ", ".join(r.field for r in short[:5]) + ".")
            + "</p>"
        )
    if rows:
        inner += "<figure>" + charts.paired_bars(
            "fields-chart", "Demand and supply by field", rows[:12], ("Open requests", "Helpers with capacity left"),
            flagged=flagged,
        ) + "</figure>"
    else:
        inner += '<p class="empty">No open requests and no helpers in the directory yet.</p>'
    return _panel(
        "fields",
        "Demand and supply by field",
        "Open requests matched by words to the fields helpers list, beside the helpers who still have room this month.",
        inner + _table_html(table, period_key),
    )


def _weekly_panel(data: stats.DashboardData, table: Table, period_key: str) -> str:
    weeks = data.weekly.weeks
    if weeks:
        inner = f"<figure>{charts.weekly('weekly-chart', weeks)}</figure>"
    else:
        inner = '<p class="empty">No one has used Rapport here yet.</p>'
    return _panel(
        "weekly",
        "Active members per week",
        "Members who added a contact, logged an outreach or a meeting, asked for an introduction, offered one "
        "or answered one that week.",
        inner + _table_html(table, period_key),
    )


def _failures_panel(data: stats.DashboardData, table: Table, period_key: str) -> str:
    f = data.failures
    rows = [(stats.REASON_LABELS[r], n) for r, n in f.by_reason]
    if f.total:
        closed = dict(f.by_reason).get("dms_closed", 0)
        insight = f"{f.total} nudge{'s' if f.total != 1 else ''} couldn't be delivered."
        if closed:
            insight += (
                f" {closed} because the member's DMs are closed: a reminder in the community channel about "
                "allowing DMs from Rapport would help."
            )
        inner = f'<p class="insight warn">{_e(insight)}</p><figure>{charts.hbars("failures-chart", "Failed nudges by reason", rows, cls="bar red")}</figure>'
    else:
        inner = '<p class="empty">Every nudge in this period was delivered.</p>'
    return _panel(
        "failures",
        "Nudges that couldn't be delivered",
        "Reminders Rapport gave up on, and why. A member whose DMs are closed misses every nudge.",
        inner + _table_html(table, period_key),
    )


__all__ = ["ASK_FOR_A_LINK", "community_label", "dashboard_page", "login_page", "message_page"]
