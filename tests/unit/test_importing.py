"""Reading contacts files (LinkedIn's Connections.csv, vCard) and planning their import."""

import datetime as dt
import time
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import UserError
from core.importing import (
    MAX_FILE_BYTES,
    Existing,
    ImportPlan,
    Incoming,
    normalise_url,
    parse_contacts,
    plan_import,
)

LINKEDIN_PREAMBLE = (
    "Notes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. You can learn more about this here: "
    'https://www.linkedin.com/help/linkedin/answer/261"\r\n'
    "\r\n"
)
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"


def linkedin_csv(*rows: str, bom: bool = True) -> bytes:
    text = LINKEDIN_PREAMBLE + HEADER + "".join(r + "\r\n" for r in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def refused(data: bytes, filename: str | None = None) -> str:
    with pytest.raises(UserError) as caught:
        parse_contacts(data, filename)
    message = caught.value.message
    assert "\n" not in message and message.strip() == message and len(message) < 300
    return message


# --- LinkedIn CSV ----------------------------------------------------------------------------


def test_linkedin_export_with_notes_preamble_and_bom():
    data = linkedin_csv(
        "Jane,Doe,https://www.linkedin.com/in/janedoe,jane@acme.com,Acme,"
        '"Product Manager, Growth",15 Mar 2024',
        "Bob,Li,https://www.linkedin.com/in/bobli,,Beta Labs,Engineer,02 Feb 2023",
    )
    people = parse_contacts(data, "Connections.csv")
    assert people == [
        Incoming(
            name="Jane Doe",
            first="Jane",
            last="Doe",
            email="jane@acme.com",
            linkedin_url="https://www.linkedin.com/in/janedoe",
            company="Acme",
            position="Product Manager, Growth",
            connected_on=dt.date(2024, 3, 15),
        ),
        Incoming(
            name="Bob Li",
            first="Bob",
            last="Li",
            email=None,
            linkedin_url="https://www.linkedin.com/in/bobli",
            company="Beta Labs",
            position="Engineer",
            connected_on=dt.date(2023, 2, 2),
        ),
    ]


def test_blank_lines_rows_without_a_name_and_quoted_newlines():
    data = linkedin_csv(
        "",
        ",,https://www.linkedin.com/in/someone,,,,01 Jan 2024",
        ",,,,,,",
        'Ana,Ruiz,,,"Acme, Inc.","Head of\nData",',
        "",
    )
    (ana,) = parse_contacts(data, None)
    assert (ana.name, ana.company, ana.position, ana.connected_on) == (
        "Ana Ruiz",
        "Acme, Inc.",
        "Head of Data",
        None,
    )


def test_filename_is_only_a_hint_content_decides():
    data = linkedin_csv("Jane,Doe,,,,,")
    assert parse_contacts(data, "contacts.vcf")[0].name == "Jane Doe"
    assert parse_contacts(data, "whatever.txt")[0].name == "Jane Doe"


def test_header_without_preamble_and_without_bom():
    data = (HEADER + "Jane,Doe,,,,,\r\n").encode()
    assert parse_contacts(data, None)[0].name == "Jane Doe"


def test_semicolon_csv_as_excel_saves_it_and_windows_code_page():
    data = "First Name;Last Name;Company\r\nJosé;Núñez;Café Ltd\r\n".encode("cp1252")
    (jose,) = parse_contacts(data, "Connections.csv")
    assert (jose.name, jose.company) == ("José Núñez", "Café Ltd")


def test_utf16_with_bom():
    data = "First Name\tLast Name\r\nZoë\tÅberg\r\n".encode("utf-16")
    assert parse_contacts(data, None)[0].name == "Zoë Åberg"


def test_values_are_cleaned_and_clipped():
    long_name = "A" * 150
    long_company = "C" * 300
    data = linkedin_csv(
        f"{long_name},X,,,{long_company},,",
        "Eve\x07\u202e,  Stone\t ,javascript:alert(1),not-an-email,,  Chief   Officer ,",
    )
    first, eve = parse_contacts(data, None)
    assert len(first.name) == 100 and len(first.first) == 100
    assert len(first.company) == 200
    assert eve.name == "Eve Stone"
    assert eve.position == "Chief Officer"
    assert eve.email is None and eve.linkedin_url is None


def test_only_linkedin_profile_links_are_kept():
    data = linkedin_csv(
        "A,One,https://uk.linkedin.com/in/a1,,,,",
        "B,Two,https://example.com/b,,,,",
        "C,Three,https://notlinkedin.com/in/c,,,,",
    )
    assert [p.linkedin_url for p in parse_contacts(data, None)] == [
        "https://uk.linkedin.com/in/a1",
        None,
        None,
    ]


# --- vCard -----------------------------------------------------------------------------------

VCARDS = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Ana Ru\r\n"
    " iz\r\n"
    "N:Ruiz;Ana;;;\r\n"
    "item1.EMAIL;TYPE=INTERNET:ana@home.example\r\n"
    "EMAIL;TYPE=INTERNET,pref:ana@work.example\r\n"
    "ORG:Acme\\, Inc.;Research\r\n"
    "TITLE:Head of Data\\; Analytics\r\n"
    "URL:https://example.com\r\n"
    "item2.URL;type=pref:https://www.linkedin.com/in/anaruiz/\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ==\r\n"
    "END:VCARD\r\n"
    "\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
    "EMAIL;INTERNET:jm@example.de\r\n"
    "NOTE;ENCODING=QUOTED-PRINTABLE:first=0D=0A=\r\n"
    "second\r\n"
    "AGENT:\r\n"
    "BEGIN:VCARD\r\n"
    "FN:Not A Contact\r\n"
    "END:VCARD\r\n"
    "TITLE;QUOTED-PRINTABLE:Gesch=C3=A4ftsf=C3=BChrer\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    'FN;LANGUAGE="en:us":Mei Chen\n'
    "EMAIL;PREF=1:MEI@example.com\n"
    "END:VCARD\n"
    "BEGIN:VCARD\n"
    "VERSION:3.0\n"
    "ORG:Nameless Corp\n"
    "END:VCARD\n"
    "BEGIN:VCARD\n"
    "FN:Last Card Without End\n"
)


def test_vcard_several_cards_folded_escaped_quoted_printable():
    people = parse_contacts(VCARDS.encode(), "contacts.vcf")
    assert [p.name for p in people] == [
        "Ana Ruiz",
        "Jürgen Müller",
        "Mei Chen",
        "Last Card Without End",
    ]
    ana, jurgen, mei, _ = people
    assert (ana.first, ana.last) == ("Ana", "Ruiz")
    assert ana.email == "ana@work.example"  # the preferred one
    assert ana.company == "Acme, Inc."
    assert ana.position == "Head of Data; Analytics"
    assert ana.linkedin_url == "https://www.linkedin.com/in/anaruiz/"
    assert jurgen.email == "jm@example.de"
    assert jurgen.position == "Geschäftsführer"
    assert mei.email == "MEI@example.com"


def test_vcard_detected_without_a_filename():
    assert parse_contacts(VCARDS.encode(), None)[0].name == "Ana Ruiz"


# --- refusals --------------------------------------------------------------------------------


def test_refuses_empty():
    assert "empty" in refused(b"")


def test_refuses_too_large_and_says_the_limit():
    message = refused(b"a" * (MAX_FILE_BYTES + 1))
    assert "5 MB" in message


def test_refuses_zip_and_says_to_unzip():
    assert "Connections.csv" in refused(b"PK\x03\x04" + b"\x00" * 100, "Basic_LinkedInData.zip")


def test_refuses_binary():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert "isn't text" in refused(png, "me.png")


def test_refuses_undecodable():
    assert "isn't text" in refused(b"First Name,Last Name\n\x81\x8d\x8f\x90\x9d,x\n")


def test_refuses_wrong_columns_with_how_to_export():
    message = refused(b"Name,Phone\nJane,555\n", "people.csv")
    assert message.startswith("That file isn't a LinkedIn Connections.csv")
    assert "Get a copy of your data" in message


def test_refuses_vcf_without_cards():
    assert "BEGIN:VCARD" in refused(b"hello there", "contacts.vcf")


def test_refuses_no_one_with_a_name():
    assert "no one with a name" in refused(linkedin_csv(",,https://x,,,,", ",,,,,,"))
    assert "no one with a name" in refused(b"BEGIN:VCARD\nORG:Acme\nEND:VCARD\n")


def test_refuses_a_quote_that_never_ends():
    data = (HEADER + 'Jane,"Doe' + "x" * 200_000).encode()
    assert "quoted value" in refused(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "a.csv", "a.vcf", "x"]))
def test_arbitrary_bytes_give_people_or_a_user_error(data, filename):
    try:
        people = parse_contacts(data, filename)
    except UserError as error:
        assert "\n" not in error.message
    else:
        assert people and all(p.name for p in people)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.text(st.characters(codec="utf-8"), max_size=30), min_size=0, max_size=8),
        max_size=10,
    ),
    st.sampled_from(["", LINKEDIN_PREAMBLE, "BEGIN:VCARD\r\n"]),
)
def test_arbitrary_text_in_csv_shape_never_escapes_user_error(rows, prefix):
    text = prefix + HEADER + "\r\n".join(",".join(r) for r in rows)
    try:
        people = parse_contacts(text.encode("utf-8", "surrogatepass"), None)
    except (UserError, UnicodeEncodeError):
        return
    for p in people:
        assert p.name and len(p.name) <= 100
        assert all(ord(ch) >= 32 for ch in p.name)


VCARD_LINE = st.tuples(
    st.sampled_from(["FN", "N", "EMAIL", "ORG", "TITLE", "URL", "BEGIN", "END", "item1.FN", ""]),
    st.lists(
        st.sampled_from(
            [
                "ENCODING=QUOTED-PRINTABLE",
                "QUOTED-PRINTABLE",
                "CHARSET=idna",
                "CHARSET=rot13",
                "CHARSET=utf-16",
                "TYPE=pref",
                'X="a:b;c"',
                "PREF=1",
                "CHARSET=",
            ]
        ),
        max_size=3,
    ),
    st.text(max_size=20) | st.sampled_from(["VCARD", "=C3=", "=FF=FE=", "a\\;b\\n", "x="]),
).map(lambda t: f"{t[0]}{''.join(';' + p for p in t[1])}:{t[2]}")


@settings(max_examples=300, deadline=None)
@given(st.lists(VCARD_LINE | st.sampled_from([" folded", "\tfolded", ""]), max_size=15))
def test_arbitrary_vcard_lines_never_escape_user_error(lines):
    text = "BEGIN:VCARD\r\n" + "\r\n".join(lines)
    try:
        people = parse_contacts(text.encode("utf-8", "surrogatepass"), "x.vcf")
    except (UserError, UnicodeEncodeError):
        return
    assert all(p.name and len(p.name) <= 100 for p in people)


# --- planning --------------------------------------------------------------------------------


def person(name, email=None, url=None, company=None, position=None):
    return Incoming(name=name, email=email, linkedin_url=url, company=company, position=position)


def test_normalised_urls_compare_equal():
    forms = [
        "https://www.linkedin.com/in/JaneDoe/",
        "http://linkedin.com/in/janedoe?trk=people",
        "linkedin.com/in/janedoe#about",
        "www.linkedin.com/in/janedoe",
    ]
    assert {normalise_url(f) for f in forms} == {"linkedin.com/in/janedoe"}


def test_match_by_email_then_profile_then_name():
    existing = [
        Existing(1, "Jane Doe", email="Jane@Acme.com"),
        Existing(2, "Robert Li", linkedin_url="https://www.linkedin.com/in/bobli/"),
        Existing(3, "Ana  Ruiz"),
    ]
    plan = plan_import(
        existing,
        [
            person("J. Doe", email="jane@acme.COM", company="Acme"),
            person("Bob Li", url="linkedin.com/in/bobli?x=1", email="bob@beta.io"),
            person("ana ruiz", position="Head of Data"),
            person("New Person"),
        ],
    )
    assert [p.name for p in plan.new] == ["New Person"]
    assert {(u.contact_id, u.matched_by): u.fields for u in plan.updates} == {
        (1, "email"): {"company": "Acme"},
        (2, "linkedin"): {"email": "bob@beta.io"},
        (3, "name"): {"role": "Head of Data"},
    }
    assert plan.unchanged == 0 and plan.matched == 3


def test_never_overwrites_and_counts_unchanged():
    existing = [Existing(1, "Jane Doe", email="jane@acme.com", company="Old Co", role="PM")]
    plan = plan_import(existing, [person("Jane Doe", email="jane@acme.com", company="New Co")])
    assert plan.updates == () and plan.unchanged == 1 and plan.new == ()


def test_same_name_with_a_different_email_is_someone_else():
    existing = [Existing(1, "Jane Doe", email="jane@acme.com")]
    plan = plan_import(existing, [person("Jane Doe", email="jane@other.org")])
    assert len(plan.new) == 1


def test_ambiguous_name_without_email_or_profile_is_left_alone():
    existing = [Existing(1, "Sam Lee", company="Acme"), Existing(2, "sam lee", company="Beta")]
    plan = plan_import(existing, [person("Sam Lee", company="Gamma")])
    assert plan.new == () and plan.updates == () and len(plan.unsure) == 1
    assert "leave alone" in plan.summary()


def test_repeats_in_the_file_fold_into_one():
    plan = plan_import(
        [],
        [
            person("Jane Doe", email="jane@acme.com"),
            person("Jane Doe", email="JANE@acme.com", company="Acme"),
            person("Jane Doe", url="https://linkedin.com/in/jane"),
            person("Bob Li", url="https://linkedin.com/in/bob"),
            person("Robert Li", url="https://www.linkedin.com/in/bob/"),
            person("Bob Li", url="https://linkedin.com/in/another-bob"),
        ],
    )
    assert plan.in_file_repeats == 3
    jane, bob, other_bob = plan.new
    assert (jane.email, jane.company, jane.linkedin_url) == (
        "jane@acme.com",
        "Acme",
        "https://linkedin.com/in/jane",
    )
    assert bob.name == "Bob Li" and other_bob.linkedin_url.endswith("another-bob")


def test_does_not_give_a_contact_an_email_another_contact_has():
    existing = [
        Existing(1, "Jane Doe", linkedin_url="https://linkedin.com/in/jane"),
        Existing(2, "Jane D.", email="jane@acme.com"),
    ]
    plan = plan_import(existing, [person("Jane Doe", url="linkedin.com/in/jane/")])
    assert plan.updates == ()


def test_summary_and_examples_for_the_preview():
    existing = [Existing(1, "Bob Li")]
    plan = plan_import(
        existing,
        [
            person("Jane Doe", company="Acme", position="Product Manager"),
            person("Ana Ruiz", company="Beta"),
            person("Mo Diaz"),
            person("Zed Ong"),
            person("Bob Li", email="bob@beta.io", company="Beta"),
        ],
    )
    assert (
        plan.summary() == "4 new contacts; 1 you already have (1 gets a missing detail filled in)"
    )
    assert plan.examples(2) == [
        "Jane Doe, Product Manager at Acme",
        "Ana Ruiz, Beta",
        "Bob Li: adds email, company",
    ]


def test_five_thousand_rows_plan_quickly():
    incoming = [
        person(f"Person {i}", email=f"p{i}@example.com", url=f"https://linkedin.com/in/p{i}")
        for i in range(5000)
    ]
    existing = [Existing(i, f"Person {i}", email=f"P{i}@example.com") for i in range(0, 5000, 2)]
    started = time.perf_counter()
    plan = plan_import(existing, incoming)
    assert time.perf_counter() - started < 2  # dictionary lookups: milliseconds, in fact
    assert len(plan.new) == 2500 and len(plan.updates) == 2500


def apply(existing: list[Existing], plan: ImportPlan) -> list[Existing]:
    """What the handler does with a confirmed plan, on plain records."""
    by_id = {c.id: c for c in existing}
    for update in plan.updates:
        contact = by_id[update.contact_id]
        for field in update.fields:
            assert not getattr(contact, field), "an import must never overwrite"
        by_id[update.contact_id] = replace(contact, **update.fields)
    next_id = max(by_id, default=0) + 1
    for i, p in enumerate(plan.new):
        by_id[next_id + i] = Existing(
            next_id + i, p.name, p.email, p.linkedin_url, p.company, p.position
        )
    return list(by_id.values())


NAMES = st.sampled_from(["Ana Ruiz", "ana  ruiz", "Bob Li", "Jane Doe", "JANE DOE"])
EMAILS = st.sampled_from([None, "a@x.io", "A@X.io", "b@y.io", "c@z.io"])
URLS = st.sampled_from(
    [None, "https://www.linkedin.com/in/ana/", "linkedin.com/in/ana", "linkedin.com/in/bob?x=1"]
)
WORDS = st.sampled_from([None, "Acme", "Beta"])
INCOMING = st.builds(
    Incoming, name=NAMES, email=EMAILS, linkedin_url=URLS, company=WORDS, position=WORDS
)
EXISTING = st.builds(
    Existing,
    id=st.integers(1, 10**6),
    name=NAMES,
    email=EMAILS,
    linkedin_url=URLS,
    company=WORDS,
    role=WORDS,
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EXISTING, max_size=6, unique_by=lambda c: c.id), st.lists(INCOMING, max_size=10))
def test_planning_again_after_applying_finds_nothing_new(existing, incoming):
    plan = plan_import(existing, incoming)
    after = apply(existing, plan)
    assert len(after) == len(existing) + len(plan.new)
    again = plan_import(after, incoming)
    assert again.new == () and again.updates == ()
    assert again.in_file_repeats == plan.in_file_repeats
