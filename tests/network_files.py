"""Contacts files as members send them, for the import tests on every platform."""

from __future__ import annotations

PREAMBLE = (
    "Notes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    'connections to see or download their email address using this setting."\r\n'
    "\r\n"
)
HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
ROWS = (
    "Jane,Doe,https://www.linkedin.com/in/janedoe,jane@acme.test,Acme,\"Product Manager, Growth\",15 Mar 2024",
    "Bob,Li,https://www.linkedin.com/in/bobli,,Acme,Engineer,02 Feb 2023",
    "Ana,Ruiz,https://www.linkedin.com/in/anaruiz,ana@globex.test,Globex,Designer,11 Jan 2022",
)
NEWER_ROW = "Cy,Oh,https://www.linkedin.com/in/cyoh,,Initech,Analyst,01 Oct 2026"


def linkedin_csv(*rows: str) -> bytes:
    """LinkedIn's Connections.csv: a BOM, the Notes lines above the header, CRLF lines."""
    return b"\xef\xbb\xbf" + (PREAMBLE + HEADER + "".join(r + "\r\n" for r in (rows or ROWS))).encode()


VCARD = (
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dee Park\r\nN:Park;Dee;;;\r\nEMAIL;TYPE=INTERNET:dee@hooli.test\r\n"
    b"ORG:Hooli;Research\r\nTITLE:UX Researcher\r\nEND:VCARD\r\n"
    b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Eli Stone\r\nN:Stone;Eli;;;\r\nORG:Acme\r\nEND:VCARD\r\n"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
