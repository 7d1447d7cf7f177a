"""One way to abbreviate a sid, everywhere: the board, the wait line, the timeline, notebooks.

``WT…927e50``: the two-letter type prefix says what it is, the last six characters tell two
sids apart (the middle is the same kind of hex noise in every sid).
"""

from __future__ import annotations


def short_sid(sid: str) -> str:
    sid = str(sid)
    return f"{sid[:2]}…{sid[-6:]}" if len(sid) > 10 else sid
