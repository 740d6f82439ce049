"""The network map: a picture of a member's contacts, who referred whom, and who they've met.

``build_graph`` turns contacts into a ``networkx.DiGraph`` (pure, no drawing);
``render_png`` draws it as a PNG with matplotlib's Agg backend (no display, no system
binaries). Contacts beget contacts: referral edges point from the referrer to the person
they introduced, so chains of introductions read outward from the member in the middle.

Readable at any size: everyone the member has dealt with (reached out to, met, thanked, or
on a referral chain) is always drawn; contacts imported and never acted on are drawn one by
one while the picture stays small, and otherwise grouped: "12 at Acme" per company with
several of them, and one "+240 more imported connections" for the rest.

Node attributes: ``kind`` (member, contact, cluster, referrer-member), ``group`` (member,
met, reached, not-contacted, community), ``owed`` (a thank-you is owed), ``label``,
``important`` (labelled even in a crowded picture), for contacts ``imported`` (imported
and not acted on) and for clusters ``size`` (how many people). Edge
attribute ``referral``: True for an introduction, False for "someone you know yourself".
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import networkx as nx

STATUS_GROUPS = {
    "new": "not-contacted",
    "reached-out": "reached",
    "replied": "reached",
    "scheduled": "reached",
    "met": "met",
}
MEMBER = "member"
REST = "rest"  # the group of everyone grouped but not in a company group
MAX_COMPANY_CLUSTERS = 12
MIN_COMPANY_CLUSTER = 3
FIRST_RING = 2.0  # layout units: the smallest distance from the member to the first ring
RING_STEP = 1.6  # from one ring to the next
NODE_ROOM = 1.25  # arc length each node gets on its ring
LABEL_ROOM = 3.0  # arc length under which neighbouring labels could collide
STAGGER = 1.0  # how far every other crowded leaf steps out
MAX_WEDGE = math.pi  # the widest angle one contact's referrals spread over
UNIT_PX = 48  # pixels per layout unit in a picture of usual size
MIN_PLOT_PX = (720, 560)  # a small network is drawn larger, to fill a picture this size
MAX_PLOT_PX = (1500, 1700)  # a large one smaller, to fit one this size


@dataclass(frozen=True, slots=True)
class MapContact:
    """A contact as the map needs it. ``status`` is one of STATUS_GROUPS' keys.
    ``referred_by_member`` is the name of the community member who made the introduction."""

    id: int
    name: str
    company: str | None = None
    status: str = "new"
    imported_untouched: bool = False
    referred_by_contact_id: int | None = None
    referred_by_member: str | None = None
    thank_you_owed: bool = False


# --- the graph -------------------------------------------------------------------------------


def build_graph(
    member_name: str, contacts: Sequence[MapContact], *, max_detail: int = 60
) -> nx.DiGraph:
    """The member's network as a directed graph rooted at the node ``"member"``.

    Nodes: ``"member"``; ``"c<id>"`` per contact drawn; ``"m:<name>"`` per community member
    who referred someone; ``"cluster:<company>"`` and ``"rest"`` for grouped contacts. Edges go referrer -> referred; a contact nobody referred (or whose referrer is
    not in ``contacts``) hangs off the member, as does each community member and cluster.
    Every node is reachable from the member, even with a loop of referrals in the data.

    When there are more than ``max_detail`` contacts, imported contacts the member hasn't
    acted on are grouped; if more than twice ``max_detail`` would still be drawn, so are
    the other never-contacted ones. Never anyone on a referral chain or owed a thank-you.
    The graph's ``counts`` attribute has the totals for a caption. Raises ValueError for an
    unknown status.
    """
    for c in contacts:
        if c.status not in STATUS_GROUPS:
            raise ValueError(f"unknown contact status {c.status!r}")
    by_id = {c.id: c for c in contacts}

    def referrer(c: MapContact) -> str:
        ref = c.referred_by_contact_id
        if ref is not None and ref != c.id and ref in by_id:
            return f"c{ref}"
        if c.referred_by_member and c.referred_by_member.strip():
            return f"m:{_key(c.referred_by_member)}"
        return MEMBER

    referrers = {
        c.referred_by_contact_id
        for c in contacts
        if c.referred_by_contact_id in by_id and c.referred_by_contact_id != c.id
    }

    def on_chain(c: MapContact) -> bool:
        return referrer(c) != MEMBER or c.id in referrers

    def untouched(c: MapContact) -> bool:
        return c.status == "new" and not c.thank_you_owed and not on_chain(c)

    grouped: list[MapContact] = []
    if len(contacts) > max_detail:
        grouped = [c for c in contacts if c.imported_untouched and untouched(c)]
        if len(contacts) - len(grouped) > 2 * max_detail:
            grouped = [c for c in contacts if untouched(c)]
    grouped_ids = {c.id for c in grouped}
    drawn = [c for c in contacts if c.id not in grouped_ids]

    graph = nx.DiGraph()
    graph.add_node(
        MEMBER,
        kind="member",
        group="member",
        owed=False,
        label=_clip(member_name.strip() or "You", 30),
        important=True,
    )
    for c in drawn:
        if (parent := referrer(c)).startswith("m:") and parent not in graph:
            graph.add_node(
                parent,
                kind="referrer-member",
                group="community",
                owed=False,
                label=_clip(" ".join((c.referred_by_member or "").split()), 30),
                important=True,
            )
            graph.add_edge(MEMBER, parent, referral=False)
    for c in drawn:
        group = STATUS_GROUPS[c.status]
        graph.add_node(
            f"c{c.id}",
            kind="contact",
            group=group,
            owed=c.thank_you_owed,
            label=_clip(" ".join(c.name.split()), 24),
            important=group != "not-contacted" or c.thank_you_owed or c.id in referrers,
            imported=c.imported_untouched,
        )
    for c in drawn:
        parent = referrer(c)
        graph.add_edge(parent, f"c{c.id}", referral=parent != MEMBER)
    _add_clusters(graph, grouped, any(not c.imported_untouched for c in grouped))
    _reach_everyone(graph)

    groups = Counter(STATUS_GROUPS[c.status] for c in contacts)
    graph.graph.update(
        member_name=member_name,
        counts={
            "contacts": len(contacts),
            "met": groups["met"],
            "reached": groups["reached"],
            "not_contacted": groups["not-contacted"],
            "grouped": len(grouped),
            "owed": sum(c.thank_you_owed for c in contacts),
        },
    )
    return graph


def _add_clusters(graph: nx.DiGraph, grouped: Sequence[MapContact], mixed: bool) -> None:
    by_company: dict[str, list[MapContact]] = {}
    for c in grouped:
        if c.company and c.company.strip():
            by_company.setdefault(_key(c.company), []).append(c)
    big = sorted(
        (people for people in by_company.values() if len(people) >= MIN_COMPANY_CLUSTER),
        key=lambda people: (-len(people), _key(people[0].company or "")),
    )[:MAX_COMPANY_CLUSTERS]
    clustered: set[int] = set()
    for people in big:
        name = Counter(" ".join((p.company or "").split()) for p in people).most_common(1)[0][0]
        node = f"cluster:{_key(name)}"
        graph.add_node(
            node,
            kind="cluster",
            group="not-contacted",
            owed=False,
            label=f"{len(people)} at {_clip(name, 22)}",
            important=True,
            size=len(people),
        )
        graph.add_edge(MEMBER, node, referral=False)
        clustered.update(p.id for p in people)
    rest = len(grouped) - len(clustered)
    if rest:
        what = "connections" if mixed else "imported connections"
        label = f"+{rest} more\n{what}" if clustered else f"{rest}\n{what}"
        graph.add_node(
            REST,
            kind="cluster",
            group="not-contacted",
            owed=False,
            label=label,
            important=True,
            size=rest,
        )
        graph.add_edge(MEMBER, REST, referral=False)


def _reach_everyone(graph: nx.DiGraph) -> None:
    """Hangs off the member any node a loop of referrals left unreachable."""
    reached = nx.descendants(graph, MEMBER) | {MEMBER}
    for node in list(graph.nodes):
        if node not in reached:
            graph.add_edge(MEMBER, node, referral=False)
            reached |= nx.descendants(graph, node) | {node}


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the picture -----------------------------------------------------------------------------

# Okabe-Ito colours: told apart with every common kind of colour blindness.
STYLE = {
    "member": {"color": "#1d3557", "marker": "o", "label": "You"},
    "met": {"color": "#009E73", "marker": "o", "label": "Met"},
    "reached": {"color": "#E69F00", "marker": "D", "label": "Reached out"},
    "not-contacted": {"color": "#ffffff", "marker": "o", "label": "Not contacted yet"},
    "community": {"color": "#CC79A7", "marker": "h", "label": "Community member"},
    "cluster": {"color": "#e9ecef", "marker": "o", "label": "Group not contacted yet"},
}
OWED_COLOUR = "#D55E00"
REFERRAL_COLOUR = "#0072B2"
KNOWN_COLOUR = "#c5ccd3"
OWED_RING = 2.6  # the owed ring's area, as a multiple of its node's
OUTLINE = "#6c757d"


def render_png(graph: nx.DiGraph, title: str) -> bytes:
    """The graph from :func:`build_graph` drawn as a PNG image (bytes).

    Deterministic: the same graph gives the same picture. The member is in the middle;
    met, reached-out and not-yet-contacted contacts differ in colour and shape; referral
    edges are arrows; a thank-you owed is an orange ring; a legend explains it all. Labels go
    where they cover no other label, node or arrow; in a crowded picture a label that isn't
    important is left out rather than squeezed in. Uses matplotlib's Agg backend and its
    object API (no pyplot figure manager), so nothing is left open between calls.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display; we draw through the Figure API, never pyplot
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    positions = _layout(graph)
    crowded = graph.number_of_nodes() > 40
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    span_x, span_y = max(xs) - min(xs) + 3.0, max(ys) - min(ys) + 3.0  # + room for labels
    # pixels per layout unit: the same in every picture unless it is very small or large
    px = max(UNIT_PX, min(MIN_PLOT_PX[0] / span_x, MIN_PLOT_PX[1] / span_y))
    px = min(px, MAX_PLOT_PX[0] / span_x, MAX_PLOT_PX[1] / span_y)
    plot_w = max(MIN_PLOT_PX[0], span_x * px) / 100  # inches, at 100 dpi
    plot_h = max(MIN_PLOT_PX[1], span_y * px) / 100
    width = plot_w + 0.4
    header, footer = 1.1, (0.75 if width >= 11 else 1.0)
    height = plot_h + header + footer
    figure = Figure(figsize=(width, height), dpi=100, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    ax = figure.add_axes((0.2 / width, footer / height, plot_w / width, plot_h / height))
    ax.set_axis_off()
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    half_w, half_h = plot_w * 100 / px / 2, plot_h * 100 / px / 2
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    sizes = {node: _node_size(data, crowded) for node, data in graph.nodes(data=True)}

    known = [
        (positions[u], positions[v]) for u, v, d in graph.edges(data=True) if not d["referral"]
    ]
    ax.add_collection(LineCollection(known, colors=KNOWN_COLOUR, linewidths=1.0, zorder=1))
    for u, v, data in graph.edges(data=True):
        if data.get("referral"):
            _arrow(ax, positions[u], positions[v], sizes[u], sizes[v])

    for group, style in STYLE.items():
        nodes = [node for node, data in graph.nodes(data=True) if _legend_group(data) == group]
        if not nodes or group == "member":  # the member is their name, drawn with the labels
            continue
        ax.scatter(
            [positions[node][0] for node in nodes],
            [positions[node][1] for node in nodes],
            s=[sizes[node] for node in nodes],
            c=style["color"],
            marker=style["marker"],
            edgecolors=OUTLINE if group in ("not-contacted", "cluster") else "white",
            linewidths=1.4 if group == "not-contacted" else 1.0,
            zorder=3,
        )
    owed = [node for node, data in graph.nodes(data=True) if data.get("owed")]
    if owed:
        ax.scatter(
            [positions[node][0] for node in owed],
            [positions[node][1] for node in owed],
            s=[sizes[node] * OWED_RING for node in owed],
            facecolors="none",
            edgecolors=OWED_COLOUR,
            linewidths=2.6,
            zorder=4,
        )

    _labels(ax, canvas.get_renderer(), graph, positions, sizes, crowded)  # type: ignore[no-untyped-call]
    families = _fonts()[0]
    figure.text(
        0.5, 1 - 0.3 / height, _drawable(title), ha="center", va="top", fontsize=16,
        fontweight="bold", color="#212529", fontfamily=families,
    )  # fmt: skip
    figure.text(
        0.5, 1 - 0.72 / height, _caption(graph.graph.get("counts", {})), ha="center",
        va="top", fontsize=10.5, color="#495057", linespacing=1.5, fontfamily=families,
    )  # fmt: skip
    _legend(figure, graph, bool(owed), columns=4 if width >= 11 else 3)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    figure.clear()
    return buffer.getvalue()


class _Obstacles:
    """Boxes (in pixels) a label must not cover: nodes, arrows, labels already placed."""

    def __init__(self) -> None:
        self._boxes: list[tuple[float, float, float, float]] = []
        self._array: Any = None

    def add(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self._boxes.append((x0, y0, x1, y1))
        self._array = None

    def hit(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        import numpy as np

        if not self._boxes:
            return False
        if self._array is None:
            self._array = np.asarray(self._boxes)
        b = self._array
        return bool(np.any((b[:, 0] < x1) & (x0 < b[:, 2]) & (b[:, 1] < y1) & (y0 < b[:, 3])))


def _labels(
    ax: Any, renderer: Any, graph: nx.DiGraph, positions: dict[str, Any], sizes: dict[str, float], crowded: bool
) -> None:
    """Places each label beside its node where it covers no node, arrow or label placed
    before: the member's first, then the important ones (owed, met, reached, community,
    groups), then the rest. An important label that finds no free spot goes where it first
    wanted to; another one is left out."""
    to_pixels = ax.transData.transform
    points = ax.figure.dpi / 72
    obstacles = _Obstacles()
    ring = {
        node: math.sqrt(sizes[node] * (OWED_RING if data.get("owed") else 1)) / 2
        for node, data in graph.nodes(data=True)
    }
    for node in graph.nodes:
        x, y = to_pixels(positions[node])
        r = ring[node] * points
        obstacles.add(x - r, y - r, x + r, y + r)
    for u, v, data in graph.edges(data=True):
        if data.get("referral"):  # keep arrows, and their heads, in sight
            (x1, y1), (x2, y2) = to_pixels(positions[u]), to_pixels(positions[v])
            steps = max(2, int(math.hypot(x2 - x1, y2 - y1) / 6))
            for i in range(steps + 1):
                x, y = x1 + (x2 - x1) * i / steps, y1 + (y2 - y1) * i / steps
                obstacles.add(x - 3, y - 3, x + 3, y + 3)
    area = ax.get_window_extent(renderer)

    member = next(n for n, d in graph.nodes(data=True) if d["kind"] == "member")
    x, y = positions[member]
    text = ax.text(
        x, y, _drawable(graph.nodes[member]["label"]), ha="center", va="center", fontsize=11,
        fontfamily=_fonts()[0],
        fontweight="bold", color="white", zorder=6,
        bbox={"boxstyle": "round,pad=0.4", "fc": STYLE["member"]["color"], "ec": "none"},
    )  # fmt: skip
    extent = text.get_window_extent(renderer)
    obstacles.add(extent.x0 - 4, extent.y0 - 4, extent.x1 + 4, extent.y1 + 4)

    order = {"met": 1, "reached": 2, "community": 3, "not-contacted": 5}

    def priority(node: str) -> tuple[Any, ...]:
        data = graph.nodes[node]
        if data.get("owed"):
            first = 0
        elif data["kind"] == "cluster":
            first = 4
        else:
            first = order.get(data["group"], 6)
        return (first, not data.get("important"))

    centre = positions[member]
    shift_x = {"left": 0.0, "center": 0.5, "right": 1.0}
    shift_y = {"bottom": 0.0, "center": 0.5, "top": 1.0}
    for node in sorted((n for n in graph.nodes if n != member), key=priority):
        data = graph.nodes[node]
        x, y = positions[node]
        px, py = to_pixels((x, y))
        label = _drawable(data["label"])
        style = {
            "fontsize": 8.5 if crowded else 10,
            "fontstyle": "italic" if data["kind"] == "cluster" else "normal",
            "fontfamily": _fonts()[0],
            "color": "#212529",
            "zorder": 5,
            "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        }
        # measure the label once; each spot's box is then arithmetic
        probe = ax.annotate(label, (x, y), xytext=(0, 0), textcoords="offset points", **style)
        extent = probe.get_window_extent(renderer)
        probe.remove()
        w, h = extent.width + 4, extent.height + 2
        spots = _spots(math.atan2(y - centre[1], x - centre[0]), ring[node] + 3)
        chosen = None
        for spot in spots:
            dx, dy, ha, va = spot
            x0 = px + dx * points - shift_x[ha] * w
            y0 = py + dy * points - shift_y[va] * h
            box = (x0, y0, x0 + w, y0 + h)
            inside = area.x0 <= x0 and box[2] <= area.x1 and area.y0 <= y0 and box[3] <= area.y1
            if inside and not obstacles.hit(*box):
                chosen = spot, box
                break
        if chosen is None and (data.get("important") or not crowded):
            dx, dy, ha, va = spots[0]  # where it first wanted to go, come what may
            x0, y0 = px + dx * points - shift_x[ha] * w, py + dy * points - shift_y[va] * h
            chosen = spots[0], (x0, y0, x0 + w, y0 + h)
        if chosen is not None:
            (dx, dy, ha, va), box = chosen
            ax.annotate(
                label, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                **style,
            )  # fmt: skip
            obstacles.add(*box)


def _spots(angle: float, r: float) -> list[tuple[float, float, str, str]]:
    """Where a label may go, in offset points from its node's centre: away from the member
    first, then below, above, to the sides and the corners, then a little further out."""
    spots = []
    for reach in (r, r + 10):
        below = (0.0, -reach, "center", "top")
        above = (0.0, reach, "center", "bottom")
        right = (reach, 0.0, "left", "center")
        left = (-reach, 0.0, "right", "center")
        d = reach * 0.75
        corners = [
            (d, -d, "left", "top"),
            (-d, -d, "right", "top"),
            (d, d, "left", "bottom"),
            (-d, d, "right", "bottom"),
        ]
        cos, sin = math.cos(angle), math.sin(angle)
        if abs(cos) >= 0.6:
            sides = [right, below, above, left] if cos > 0 else [left, below, above, right]
        else:
            sides = [above, right, left, below] if sin > 0 else [below, right, left, above]
        spots += sides + corners
    return spots


def _legend(figure: Any, graph: nx.DiGraph, owed: bool, columns: int) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], linestyle="none", marker=STYLE[g]["marker"], markersize=10,
               markerfacecolor=STYLE[g]["color"],
               markeredgecolor=OUTLINE if g in ("not-contacted", "cluster") else "white",
               label=STYLE[g]["label"])
        for g in ("met", "reached", "not-contacted", "community", "cluster")
        if any(_legend_group(d) == g for _, d in graph.nodes(data=True))
    ]  # fmt: skip
    if any(d.get("referral") for _, _, d in graph.edges(data=True)):
        handles.append(
            Line2D([], [], color=REFERRAL_COLOUR, linewidth=1.8, marker=">", markersize=7,
                   label="Introduced (from → to)")
        )  # fmt: skip
    if owed:
        handles.append(
            Line2D([], [], linestyle="none", marker="o", markersize=14, markerfacecolor="none",
                   markeredgecolor=OWED_COLOUR, markeredgewidth=2.4, label="Thank-you owed")
        )  # fmt: skip
    if handles:
        figure.legend(
            handles=handles,
            loc="lower center",
            bbox_to_anchor=(0.5, 0.01),
            ncol=min(columns, len(handles)),
            prop={"family": _fonts()[0], "size": 10},
            frameon=False,
            columnspacing=1.8,
            handletextpad=0.5,
        )


def _legend_group(data: dict[str, Any]) -> str:
    return "cluster" if data["kind"] == "cluster" else data["group"]


def _caption(counts: dict[str, Any]) -> str:
    if not counts:
        return ""
    if not counts["contacts"]:
        return "No contacts yet: the people you add will show up here."
    parts = [
        f"{counts['contacts']} contact{'s' if counts['contacts'] != 1 else ''}",
        f"{counts['met']} met",
        f"{counts['reached']} reached out",
        f"{counts['not_contacted']} not contacted yet",
    ]
    if counts.get("owed"):
        parts.append(f"{counts['owed']} thank-you{'s' if counts['owed'] != 1 else ''} owed")
    caption = " · ".join(parts)
    if counts.get("grouped"):
        caption += (
            f"\n{counts['grouped']} you haven't contacted yet are shown in groups, by company"
        )
    return caption


def _node_size(data: dict[str, Any], crowded: bool) -> float:
    if data["kind"] == "member":
        return 1400.0
    if data["kind"] == "cluster":
        return 260.0 + 70.0 * math.sqrt(data.get("size", 1))
    if data["group"] == "not-contacted":
        return 90.0 if crowded else 220.0
    return 170.0 if crowded else 380.0


def _arrow(ax: Any, start: Any, end: Any, start_size: float, end_size: float) -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=16,
            color=REFERRAL_COLOUR,
            linewidth=1.8,
            shrinkA=math.sqrt(start_size) / 2 + 2,
            shrinkB=math.sqrt(end_size) / 2 + 3,
            zorder=2,
        )
    )


def _layout(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Positions for a radial tree around the member, over networkx's breadth-first tree.

    Each subtree gets a wedge as wide as its leaves need; siblings go in the order met,
    reached, community, not contacted, then groups; each ring is pushed out until its nodes
    have room. One unit is about one labelled node's room. (A spring layout, tried first,
    crowds the member's first ring when it has dozens of nodes and stretches referral
    chains; this reads as "you in the middle, introductions going outward" at any size.)
    """
    tree = nx.bfs_tree(graph, MEMBER)
    order = {"met": 0, "reached": 1, "community": 2, "not-contacted": 3}

    def rank(node: str) -> tuple[Any, ...]:
        data = graph.nodes[node]
        return (data["kind"] == "cluster", order.get(data["group"], 4), data["label"].casefold())

    def room(node: str) -> float:
        data = graph.nodes[node]
        return 1.0 + 0.1 * math.sqrt(data["size"]) if data["kind"] == "cluster" else 1.0

    need: dict[str, float] = {}
    for node in reversed(list(nx.topological_sort(tree))):
        need[node] = max(room(node), sum(need[c] for c in tree.successors(node)))

    positions: dict[str, tuple[float, float]] = {MEMBER: (0.0, 0.0)}

    def place(node: str, radius: float, low: float, high: float) -> None:
        children = sorted(tree.successors(node), key=rank)
        if not children:
            return
        if high - low > MAX_WEDGE and node != MEMBER:
            # fan a subtree out around its root, not all the way round the member
            middle = (low + high) / 2
            low, high = middle - MAX_WEDGE / 2, middle + MAX_WEDGE / 2
        total = sum(need[c] for c in children)
        # far enough out that the children's arc gives each the room it needs
        ring = max(radius + RING_STEP, total * NODE_ROOM / (high - low))
        # a label is wider than a node: where neighbours are close, every other childless
        # one steps out, so side-by-side labels don't run into each other
        stagger = ring * (high - low) / total < LABEL_ROOM
        angle, leaves = low, 0
        for child in children:
            share = (high - low) * need[child] / total
            middle = angle + share / 2
            out = ring
            if tree.out_degree(child) == 0:
                out += STAGGER if stagger and leaves % 2 else 0.0
                leaves += 1
            positions[child] = (out * math.cos(middle), out * math.sin(middle))
            place(child, ring, angle, angle + share)
            angle += share

    place(MEMBER, FIRST_RING - RING_STEP, math.pi / 2, math.pi / 2 + 2 * math.pi)
    return positions


FALLBACK_FONTS = (
    "Noto Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans Arabic",
    "Noto Sans Devanagari",
    "Noto Sans Hebrew",
    "Noto Sans Thai",
    "Droid Sans Fallback",
    "WenQuanYi Zen Hei",
)
"""Fonts used for letters DejaVu Sans lacks, where the machine has them (none need be)."""


@lru_cache(maxsize=1)
def _fonts() -> tuple[list[str], frozenset[int]]:
    """The font families to draw with, and every character they can draw."""
    from matplotlib import font_manager

    installed = {font.name: font.fname for font in font_manager.fontManager.ttflist}
    families = ["DejaVu Sans"] + [f for f in FALLBACK_FONTS if f in installed]
    glyphs: set[int] = set()
    for family in families:
        path = installed.get(family) or font_manager.findfont(family)
        glyphs.update(font_manager.get_font(path).get_charmap())
    return families, frozenset(glyphs)


def _drawable(text: str) -> str:
    """``text`` without characters our fonts can't draw (they'd show as empty boxes)."""
    _, glyphs = _fonts()
    lines = ["".join(ch for ch in line if ord(ch) in glyphs) for line in text.split("\n")]
    kept = "\n".join(" ".join(line.split()) for line in lines).strip()
    return kept or "…"
