"""Reading an HTTP/1.x request head: the request line and the header fields, bounded.

A lean replacement for ``BaseHTTPRequestHandler.parse_request``, which parses every header
block with the ``email`` package: that was about a fifth of the sandbox's CPU per request
(``bench/findings.md``). The rules and limits are http.server's, so clients see the same
answers as before: a request line over 64 KiB is 414, a header line over 64 KiB or more than
100 header fields is 431, a malformed request line 400, an HTTP version from 2.0 up 505.
A header line without a colon is 400 (http.server silently dropped it and every header
after it; RFC 9112 §5 asks for a 400).
"""

from __future__ import annotations

from io import BufferedIOBase

MAX_LINE = 65536  # http.client._MAXLINE: the request line and each header line
MAX_HEADERS = 100  # http.client._MAXHEADERS


class Refusal(Exception):
    """The head cannot be served: answer ``status`` with ``reason`` and close."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def request_line(raw: bytes) -> tuple[str, str, tuple[int, int]] | None:
    """(method, target, version) of a request line, None for an empty one (nothing to do)."""
    if len(raw) > MAX_LINE:
        raise Refusal(414, "Request-URI Too Long")
    line = raw.decode("iso-8859-1").rstrip("\r\n")
    words = line.split()
    if not words:
        return None
    if len(words) == 2 and words[0] == "GET":  # HTTP/0.9: served, then closed
        return words[0], _target(words[1]), (0, 9)
    if len(words) != 3:
        raise Refusal(400, f"Bad request syntax ({line[:200]!r})")
    method, target, version_text = words
    return method, _target(target), _version(version_text)


def _version(text: str) -> tuple[int, int]:
    name, _, number = text.partition("/")
    major, dot, minor = number.partition(".")
    if (
        name != "HTTP"
        or not dot
        or not (major.isascii() and major.isdigit() and minor.isascii() and minor.isdigit())
        or len(major) > 10
        or len(minor) > 10
    ):
        raise Refusal(400, f"Bad request version ({text[:50]!r})")
    version = (int(major), int(minor))
    if version >= (2, 0):
        raise Refusal(505, f"Invalid HTTP version ({text[:50]})")
    return version


def _target(target: str) -> str:
    # http.server's guard: '//host/path' must not be read as a network path
    return "/" + target.lstrip("/") if target.startswith("//") else target


def read_headers(rfile: BufferedIOBase) -> dict[str, str]:
    """The header fields up to the blank line; folded lines are joined with a space."""
    headers: dict[str, str] = {}
    last = ""
    for _ in range(MAX_HEADERS + 1):
        raw = rfile.readline(MAX_LINE + 1)
        if len(raw) > MAX_LINE:
            raise Refusal(431, "Line too long")
        if raw in (b"\r\n", b"\n", b""):
            return headers
        line = raw.decode("iso-8859-1").rstrip("\r\n")
        if line[0] in " \t":  # obs-fold: a continuation of the previous field
            if last:
                headers[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise Refusal(400, f"Malformed header line ({line[:100]!r}): expected 'Name: value'")
        last = name.lower()
        if last in headers:
            if last == "content-length" and headers[last] != value.strip():
                raise Refusal(400, "Conflicting Content-Length headers: send exactly one")
            last = ""  # the first of repeated fields counts; its folds are dropped too
            continue
        headers[last] = value.strip()
    raise Refusal(431, "Too many headers")
