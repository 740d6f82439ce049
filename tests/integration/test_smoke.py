async def test_log_then_contacts(core, alice):
    reply = await core.run_text(alice, "/rapport log Jane Doe when: yesterday 3pm company: Acme referrals: Bob Li")
    assert not reply.error, reply.text
    listing = await core.run_text(alice, "contacts")
    assert "Jane Doe" in listing.text and "Bob Li" in listing.text
    assert "referred by Jane Doe" in listing.text
