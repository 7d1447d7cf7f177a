"""The wire side of a callback: its signature, its form body, and a lean keep-alive exchange.

Every assignment costs one signed POST, and ``http.client`` plus twilio's ``RequestValidator``
were about a quarter of the sandbox's CPU in a routing run (``bench/findings.md``): the request
went out in two writes (head, then body), each answer's headers were parsed with the ``email``
package, and the signature went through several layers of generic helpers. This module does
the same thing directly:

* :func:`signature` is ``RequestValidator.compute_signature`` (HMAC-SHA1 of the URL followed by
  each parameter's name and value, names sorted, base64); a test holds the two equal;
* :func:`form_body` is ``urllib.parse.urlencode`` with a fast path for values that need no
  quoting;
* :class:`Connection` is one keep-alive HTTP/1.1 connection: a request is one write, an answer
  is read as ``http.client`` reads it (status line, header lines, then a ``Content-Length``,
  chunked or close-delimited body), with the same limits (64 KiB lines, 100 headers), the same
  per-read timeout and the same exception types, so the dispatcher's outcomes do not change.
  It serves ``http://`` URLs; ``https://`` ones still go through ``http.client``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import re
import socket
from typing import BinaryIO
from urllib.parse import quote_plus

MAX_LINE, MAX_HEADERS = 65_536, 100  # http.client's _MAXLINE and _MAXHEADERS
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9_.\-~]").search  # quote_plus leaves these alone


def signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """``X-Twilio-Signature`` of a form POST: what ``RequestValidator(auth_token)
    .compute_signature(url, params)`` returns for a plain dict of strings."""
    text = url + "".join([name + params[name] for name in sorted(params)])
    mac = hmac.new(auth_token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def form_body(params: dict[str, str]) -> bytes:
    """``urlencode(params).encode()``, without quoting what needs none (sids, numbers)."""
    return "&".join([
        (quote_plus(name) if _NEEDS_QUOTING(name) else name)
        + "="
        + (quote_plus(value) if _NEEDS_QUOTING(value) else value)
        for name, value in params.items()
    ]).encode("ascii")  # fmt: skip


class Answer:
    """What came back: status, the ``Content-Type`` header, the body (at most the limit)."""

    __slots__ = ("body", "content_type", "status", "will_close")

    def __init__(self, status: int, content_type: str, body: bytes, will_close: bool) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body
        self.will_close = will_close  # the connection cannot carry another request


class Connection:
    """One keep-alive HTTP/1.1 connection to ``netloc`` (``host[:port]``, as in a URL)."""

    def __init__(self, netloc: str, timeout: float) -> None:
        # http.client's own reading of host[:port] (IPv6 brackets, default port), so the Host
        # header, which a learner's server signs its URL with, is exactly what it sent.
        parsed = http.client.HTTPConnection(netloc)
        self.host, self.port = parsed.host, parsed.port
        bracketed = f"[{self.host}]" if ":" in self.host else self.host
        host_header = bracketed if self.port == 80 else f"{bracketed}:{self.port}"
        self._host_line = f"Host: {host_header}\r\n\r\n".encode("ascii")
        self.timeout = timeout
        self._socket: socket.socket | None = None
        self._file: BinaryIO | None = None

    def exchange(self, head: bytes, body: bytes, limit: int) -> Answer:
        """Send ``head`` (request line and header lines, each ending CRLF; ``Host`` is added)
        and ``body`` in one write; read the answer, its body cut at ``limit`` bytes."""
        if self._socket is None:
            self._socket = socket.create_connection((self.host, self.port), self.timeout)
            self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._file = self._socket.makefile("rb")
        elif self._socket.gettimeout() != self.timeout:  # assignment 5 s, events 15 s
            self._socket.settimeout(self.timeout)
        self._socket.sendall(head + self._host_line + body)
        assert self._file is not None
        return self._read_answer(self._file, limit)

    def _read_answer(self, reader: BinaryIO, limit: int) -> Answer:
        while True:
            status, version = self._status_line(reader.readline(MAX_LINE + 1))
            headers = self._headers(reader)
            if status != 100:  # http.client skips "100 Continue" answers the same way
                break
        connection = headers.get("connection", "").lower()
        if version == 10:
            will_close = "keep-alive" not in connection and "keep-alive" not in headers
        else:
            will_close = "close" in connection
        if status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers.get("content-type", ""), b"", will_close)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data, complete = self._chunked(reader, limit)
            will_close = will_close or not complete
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                length = -1
            if length < 0:  # http.client reads such an answer up to the close
                data, will_close = reader.read(limit), True
            else:
                data = reader.read(min(length, limit))
                if len(data) < min(length, limit):
                    raise http.client.IncompleteRead(data, min(length, limit) - len(data))
                will_close = will_close or length > limit
        else:  # no length: the body runs to the close
            data, will_close = reader.read(limit), True
        return Answer(status, headers.get("content-type", ""), data, will_close)

    @staticmethod
    def _status_line(line: bytes) -> tuple[int, int]:
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("status line")
        if not line:  # closed before answering: a kept-alive connection the server dropped
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        words = line.decode("iso-8859-1").split(None, 2)
        if len(words) < 2 or not words[0].startswith("HTTP/") or not words[1].isdigit():
            raise http.client.BadStatusLine(repr(line.decode("iso-8859-1")))
        status = int(words[1])
        if not 100 <= status <= 999:
            raise http.client.BadStatusLine(repr(line.decode("iso-8859-1")))
        return status, 10 if words[0] == "HTTP/1.0" else 11

    @staticmethod
    def _headers(reader: BinaryIO) -> dict[str, str]:
        """Header fields by lower-case name; repeated ones joined with ", " (getheader's way)."""
        headers: dict[str, str] = {}
        readline = reader.readline
        for _ in range(MAX_HEADERS + 1):
            line = readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("header line")
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, _, value = line.decode("iso-8859-1").partition(":")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")

    @staticmethod
    def _chunked(reader: BinaryIO, limit: int) -> tuple[bytes, bool]:
        """A chunked body up to ``limit`` bytes; (data, whether the whole body was read)."""
        readline, read = reader.readline, reader.read
        parts: list[bytes] = []
        size_read = 0
        while True:
            line = readline(MAX_LINE + 1)
            if len(line) > MAX_LINE:
                raise http.client.LineTooLong("chunk size")
            try:
                size = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise http.client.IncompleteRead(b"".join(parts)) from None
            if size == 0:
                while readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, unused
                return b"".join(parts), True
            wanted = min(size, limit - size_read)
            chunk = read(wanted)
            if len(chunk) < wanted:
                raise http.client.IncompleteRead(b"".join(parts) + chunk)
            parts.append(chunk)
            size_read += wanted
            if wanted < size:
                return b"".join(parts), False  # cut at the limit: the rest stays unread
            read(2)  # the CRLF after the chunk
            if size_read >= limit:
                return b"".join(parts), False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
