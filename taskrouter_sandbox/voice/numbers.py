"""Each account's phone number, and how the simulated phones it calls answer.

Every account gets one number on first use (``+1415555 01xx``: the 555-01xx block is reserved
for fiction), with a sid derived from the account sid so it survives ``reset``. Learners point
its ``voice_url`` at their app with the SDK, as on Twilio:
``client.incoming_phone_numbers(sid).update(voice_url=…, voice_method="POST")``.

A number the sandbox dials (a worker's ``contact_uri``, a ``dequeue``'s ``to``) answers after
``AnswerAfter`` seconds on the sandbox clock, never, or is busy (``POST /_sandbox/phones``);
by default it answers at once.
"""

from __future__ import annotations

import hashlib

from ..models import PhoneNumber
from ..store import Store, Transaction
from . import wire2010

NEVER = "never"
BUSY = "busy"


def _digest(account_sid: str) -> str:
    return hashlib.sha256(account_sid.encode()).hexdigest()


def ensure_number(tx: Transaction, account_sid: str, now: float) -> list[PhoneNumber]:
    """The account's numbers, making its first one when it has none."""
    numbers = [n for n in tx.group(PhoneNumber, "account_sid", account_sid).values()]
    if numbers:
        return numbers
    digest = _digest(account_sid)
    number = f"+14155550{100 + int(digest[:8], 16) % 100:03d}"
    record = PhoneNumber(
        sid="PN" + digest[:32],
        account_sid=account_sid,
        date_created=now,
        date_updated=now,
        phone_number=number,
        friendly_name=wire2010.formatted(number) or number,
    )
    tx.put(record)
    return [record]


def find(tx: Transaction, account_sid: str, number: str, now: float) -> PhoneNumber | None:
    for record in ensure_number(tx, account_sid, now):
        if record.phone_number == number:
            return record
    return None


def _key(account_sid: str, number: str) -> str:
    return f"voice.answer.{account_sid}.{number}"


def set_answer(store: Store, account_sid: str, number: str, after: float | str) -> None:
    """``number`` answers ``after`` seconds of ringing, ``"never"``, or is ``"busy"``."""
    value = after if after in (NEVER, BUSY) else repr(float(after))
    store.set_meta(_key(account_sid, number), str(value))


def answer_delay(store: Store, account_sid: str, number: str) -> float | None:
    """Seconds until ``number`` answers; None: never; negative: busy."""
    value = store.meta(_key(account_sid, number))
    if value is None:
        return 0.0
    if value == BUSY:
        return -1.0
    return None if value == NEVER else float(value)
