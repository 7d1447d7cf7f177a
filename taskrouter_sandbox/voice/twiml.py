"""TwiML documents to verbs, with the codes Twilio's debugger gives for bad ones.

Sources (Twilio's error dictionary): **12100** "Document parse failure" — not well-formed XML,
no ``<Response>`` root (https://www.twilio.com/docs/api/errors/12100); **12200** "Schema
validation warning" — misspelled or wrongly cased verbs, unknown nested elements
(https://www.twilio.com/docs/api/errors/12200). A 12100 ends the call (the caller hears
Twilio's "application error" message); a 12200 is a warning: the element is skipped and the
rest of the document runs.

The sandbox executes ``<Say>``, ``<Play>``, ``<Pause>``, ``<Gather>`` (digits only),
``<Redirect>``, ``<Hangup>`` and ``<Enqueue workflowSid>`` with ``<Task>``. Verbs Twilio knows
but the sandbox does not simulate (``<Dial>``, ``<Record>`` …) are reported as 12200 warnings
that say so, and skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

PARSE_FAILURE = 12100
SCHEMA_WARNING = 12200
SIMULATED = {
    "Say": set(),
    "Play": set(),
    "Pause": set(),
    "Gather": {"Say", "Play", "Pause"},
    "Redirect": set(),
    "Hangup": set(),
    "Enqueue": {"Task"},
}
NOT_SIMULATED = {
    "Dial",
    "Record",
    "Reject",
    "Leave",
    "Connect",
    "Refer",
    "Sms",
    "Message",
    "Stream",
    "Start",
    "Stop",
    "Pay",
    "Prompt",
    "Echo",
    "Queue",
    "Conference",
    "Siprec",
    "Transcription",
}
Verb = dict[str, Any]  # {"verb", "attrs", "text", "children"}: plain data, kept in call.state


class TwimlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Document:
    verbs: list[Verb]
    warnings: list[TwimlError] = field(default_factory=list)


def parse(body: bytes) -> Document:
    """Verbs of a TwiML document; raises TwimlError(12100) when it cannot be read at all."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise TwimlError(PARSE_FAILURE, "TwiML must not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise TwimlError(PARSE_FAILURE, f"The TwiML is not well-formed XML: {error}") from None
    if root.tag != "Response":
        raise TwimlError(PARSE_FAILURE, f"The root element must be <Response>, not <{root.tag}>")
    document = Document([])
    for element in root:
        verb = _verb(element, document.warnings, parent=None)
        if verb is not None:
            document.verbs.append(verb)
    return document


def _verb(element: ET.Element, warnings: list[TwimlError], parent: str | None) -> Verb | None:
    tag = element.tag if isinstance(element.tag, str) else "?"
    allowed = SIMULATED if parent is None else {name: set() for name in SIMULATED[parent]}
    if tag not in allowed:
        warnings.append(TwimlError(SCHEMA_WARNING, _why(tag, parent)))
        return None
    children = []
    for child in element:
        verb = _verb(child, warnings, parent=tag)
        if verb is not None:
            children.append(verb)
    return {
        "verb": tag,
        "attrs": dict(element.attrib),
        "text": (element.text or "").strip(),
        "children": children,
    }


def _why(tag: str, parent: str | None) -> str:
    where = f" inside <{parent}>" if parent else ""
    if parent is None and tag in NOT_SIMULATED:
        return (
            f"<{tag}> is TwiML the sandbox does not simulate; it was skipped "
            "(live mode runs it on Twilio)"
        )
    known = {name.lower(): name for name in (*SIMULATED, *NOT_SIMULATED)}
    if tag.lower() in known and tag not in known.values():
        return (
            f"<{tag}>{where} is not TwiML: verbs are case-sensitive, write <{known[tag.lower()]}>"
        )
    return f"<{tag}> is not allowed{where}; it was skipped"


def to_xml(verbs: list[Verb]) -> str:
    """Verbs back to a document (for the debugger and tests)."""
    root = ET.Element("Response")
    for verb in verbs:
        root.append(_element(verb))
    return ET.tostring(root, encoding="unicode")


def _element(verb: Verb) -> ET.Element:
    element = ET.Element(verb["verb"], verb["attrs"])
    element.text = verb["text"] or None
    for child in verb["children"]:
        element.append(_element(child))
    return element
