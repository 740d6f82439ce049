"""The network map: the graph's shape (nodes, referral edges, grouping) and the PNG."""

import struct

import networkx as nx
import pytest

from core.netmap import MapContact, _drawable, build_graph, render_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def five():
    return [
        MapContact(1, "Jane Doe", "Acme", "met", thank_you_owed=True),
        MapContact(2, "Bob Li", "Northwind", "scheduled", referred_by_contact_id=1),
        MapContact(3, "Ana Ruiz", "Globex", "new", referred_by_contact_id=2),
        MapContact(4, "Priya Shah", "Hooli", "reached-out"),
        MapContact(5, "Carol Mensah", "Initech", "replied", referred_by_member="Dana Kim"),
    ]


def imported(start, count, company=None):
    return [
        MapContact(i, f"Person {i}", company, "new", imported_untouched=True)
        for i in range(start, start + count)
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_small_network_nodes_edges_and_attributes():
    graph = build_graph("Sam Rivera", five())
    assert set(graph.nodes) == {"member", "c1", "c2", "c3", "c4", "c5", "m:dana kim"}
    referrals = {(u, v) for u, v, d in graph.edges(data=True) if d["referral"]}
    known = {(u, v) for u, v, d in graph.edges(data=True) if not d["referral"]}
    assert referrals == {("c1", "c2"), ("c2", "c3"), ("m:dana kim", "c5")}
    assert known == {("member", "c1"), ("member", "c4"), ("member", "m:dana kim")}
    nodes = graph.nodes
    assert nodes["member"]["kind"] == "member" and nodes["member"]["label"] == "Sam Rivera"
    assert [nodes[f"c{i}"]["group"] for i in range(1, 6)] == [
        "met",
        "reached",
        "not-contacted",
        "reached",
        "reached",
    ]
    assert nodes["c1"]["owed"] and not nodes["c2"]["owed"]
    assert nodes["m:dana kim"]["kind"] == "referrer-member"
    assert nodes["m:dana kim"]["label"] == "Dana Kim"
    assert graph.graph["counts"] == {
        "contacts": 5,
        "met": 1,
        "reached": 3,
        "not_contacted": 1,
        "grouped": 0,
        "owed": 1,
    }


def test_no_grouping_while_small():
    graph = build_graph("Sam", five() + imported(10, 40, "Acme"), max_detail=60)
    assert not [n for n, d in graph.nodes(data=True) if d["kind"] == "cluster"]
    assert graph.number_of_nodes() == 1 + 45 + 1


def test_large_network_groups_untouched_imports_by_company():
    contacts = (
        five()
        + imported(100, 120, "Acme")
        + imported(300, 40, "Globex")
        + imported(400, 2, "Tiny Co")  # too few for a group of its own
        + imported(500, 30)  # no company
    )
    graph = build_graph("Sam", contacts, max_detail=60)
    clusters = {n: d for n, d in graph.nodes(data=True) if d["kind"] == "cluster"}
    assert {n: (d["size"], d["label"]) for n, d in clusters.items()} == {
        "cluster:acme": (120, "120 at Acme"),
        "cluster:globex": (40, "40 at Globex"),
        "rest": (32, "+32 more\nimported connections"),
    }
    contacts_drawn = [n for n, d in graph.nodes(data=True) if d["kind"] == "contact"]
    assert sorted(contacts_drawn) == ["c1", "c2", "c3", "c4", "c5"]
    assert sum(d["size"] for d in clusters.values()) + len(contacts_drawn) == len(contacts)
    assert all(graph.has_edge("member", n) for n in clusters)
    assert graph.graph["counts"]["grouped"] == 192


def test_at_most_twelve_company_groups():
    contacts = five() + [
        c for k in range(20) for c in imported(1000 + 10 * k, 5 - (k % 2), f"Company {k:02}")
    ]
    graph = build_graph("Sam", contacts, max_detail=10)
    clusters = [d for _, d in graph.nodes(data=True) if d["kind"] == "cluster"]
    companies = [d for d in clusters if not d["label"].startswith("+")]
    assert len(companies) == 12
    assert all(d["size"] == 5 for d in companies[:10])  # the biggest first
    (rest,) = [d for d in clusters if d["label"].startswith("+")]
    assert rest["size"] == 90 - sum(d["size"] for d in companies)


def test_people_on_referral_chains_and_owed_thanks_are_never_grouped():
    contacts = imported(100, 200, "Acme") + [
        MapContact(1, "Referrer", "Acme", "new", imported_untouched=True),
        MapContact(2, "Referred", "Acme", "new", imported_untouched=True, referred_by_contact_id=1),
        MapContact(
            3, "Via Member", "Acme", "new", imported_untouched=True, referred_by_member="Kim"
        ),
        MapContact(4, "Owed", "Acme", "new", imported_untouched=True, thank_you_owed=True),
    ]
    graph = build_graph("Sam", contacts, max_detail=60)
    for node in ("c1", "c2", "c3", "c4"):
        assert node in graph
    assert graph.has_edge("c1", "c2") and graph.has_edge("m:kim", "c3")
    assert graph.nodes["cluster:acme"]["size"] == 200


def test_many_never_contacted_contacts_are_grouped_even_if_not_imported():
    contacts = [MapContact(i, f"P{i}", "Acme" if i % 2 else None, "new") for i in range(1, 301)]
    graph = build_graph("Sam", contacts, max_detail=60)
    assert graph.number_of_nodes() == 3  # the member, "150 at Acme", "+150 more connections"
    assert graph.nodes["rest"]["label"] == "+150 more\nconnections"


def test_every_node_is_reachable_even_with_a_loop_of_referrals():
    contacts = [
        MapContact(1, "A", status="met", referred_by_contact_id=2),
        MapContact(2, "B", status="met", referred_by_contact_id=1),
        MapContact(3, "C", referred_by_contact_id=3),  # refers to themselves: ignored
        MapContact(4, "D", referred_by_contact_id=99),  # a referrer we weren't given
    ]
    graph = build_graph("Sam", contacts)
    assert nx.descendants(graph, "member") == {"c1", "c2", "c3", "c4"}
    assert graph.has_edge("member", "c3") and graph.has_edge("member", "c4")
    assert not graph.has_edge("c3", "c3")


def test_unknown_status_is_a_programming_error():
    with pytest.raises(ValueError):
        build_graph("Sam", [MapContact(1, "A", status="ghosted")])


def test_png_of_a_small_network():
    data = render_png(build_graph("Sam Rivera", five()), "Sam Rivera's network")
    width, height = png_size(data)
    assert 600 <= width <= 1600 and 500 <= height <= 1800
    assert 10_000 < len(data) < 1_000_000


def test_png_of_a_large_network_is_deterministic_and_bounded():
    contacts = (
        five()
        + [
            MapContact(
                10 + i, f"Met {i}", "Acme", "met", referred_by_contact_id=1 if i < 5 else None
            )
            for i in range(15)
        ]
        + imported(100, 280, "Northwind")
        + imported(400, 5)
    )
    graph = build_graph("Sam Rivera", contacts)
    first = render_png(graph, "Sam Rivera's network")
    assert first == render_png(graph, "Sam Rivera's network")
    width, height = png_size(first)
    assert width <= 2000 and height <= 2200
    assert len(first) < 2_000_000


def test_png_with_no_contacts_and_no_figures_left_open():
    from matplotlib import _pylab_helpers

    data = render_png(build_graph("", []), "Your network")
    assert png_size(data)[0] > 0
    assert _pylab_helpers.Gcf.get_num_fig_managers() == 0


def test_labels_drop_characters_the_font_cannot_draw():
    assert _drawable("Zoë 🚀 Åberg") == "Zoë Åberg"
    assert _drawable("Ольга") == "Ольга"
    assert _drawable("🚀") == "…"
