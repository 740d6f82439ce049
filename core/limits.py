"""How much one member can ask of the others, in one place.

Every limit here protects someone's inbox: a seeker's from a flood of offers, a helper's
from a flood of asks, everyone's from the same good news twice. The numbers are what a
real community would accept without noticing them; the refusals say when the limit lifts.
"""

from __future__ import annotations

import datetime as dt

DAY = dt.timedelta(hours=24)  # "per day" is rolling: the limit lifts 24 hours after the oldest counted

#: Offers ("I'd be glad to chat" and "I know someone") one member may make in a day.
OFFERS_PER_DAY = 10
#: Direct asks (`intro @member`) one member may send in a day.
DIRECT_ASKS_PER_DAY = 5

#: A helper's monthly capacity (`per-month`) is counted over this rolling window.
ASK_WINDOW = dt.timedelta(days=30)
#: The capacity of someone who never joined the helper directory: they never offered, so
#: they are asked at most this often a month, by everyone together.
DEFAULT_PER_MONTH = 2
#: One member asks the same person at most once in ASK_WINDOW, so nobody can use up
#: someone's capacity alone.
ASKS_OF_ONE_PERSON = 1

#: `landed` tells each person (a contact's note, a referrer's DM) at most once in this window.
LANDED_QUIET = dt.timedelta(days=30)
