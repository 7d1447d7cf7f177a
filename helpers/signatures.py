"""``X-Twilio-Signature`` checked the way twilio's ``RequestValidator.validate`` checks it, cheaper.

The callback server checks every callback it logs. ``RequestValidator.validate`` re-derives the
HMAC key, sorts and concatenates the form twice and computes both URL variants (with and
without the port) on every call. :class:`SignatureCheck` gives the same verdict for the same
input: the form's part of the signed string is built once, the HMAC key is prepared once
(``hmac`` objects copy their keyed state), and the second URL variant is only tried when the
first does not match. Anything it does not handle the same way (a ``bodySHA256`` query, a
signature-settings algorithm) goes to twilio's own validator. ``tests/unit/test_signatures.py``
holds it to twilio's verdicts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlparse

from twilio.request_validator import RequestValidator, add_port, remove_port


class SignatureCheck:
    """``check.validate(url, form_pairs, signature)``: twilio's verdict for an HMAC-SHA1 form."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self._keyed = hmac.new(auth_token.encode("utf-8"), digestmod=hashlib.sha1)

    def validate(self, url: str, form: Iterable[tuple[str, str]], signature: str) -> bool:
        """Would ``RequestValidator(token).validate(url, form, signature)`` say True?

        ``form`` is the request's (name, value) pairs in any order, repeated names included
        (what the SDK's ``validate`` gets as a Flask ``MultiDict``).
        """
        parsed = urlparse(url)
        if "bodySHA256" in parsed.query:  # the JSON-body variant: twilio's own code path
            return bool(self.validator.validate(url, _multi(form), signature))
        values: dict[str, set[str]] = {}
        for name, value in form:
            values.setdefault(name, set()).add(value)
        signed_form = "".join(
            name + value for name in sorted(values) for value in sorted(values[name])
        ).encode("utf-8")
        given = signature.encode("utf-8", "surrogateescape")
        for variant in dict.fromkeys((add_port(parsed), remove_port(parsed))):
            mac = self._keyed.copy()
            mac.update(variant.encode("utf-8"))
            mac.update(signed_form)
            if hmac.compare_digest(base64.b64encode(mac.digest()), given):
                return True
        return False


class _MultiForm(dict[str, list[str]]):
    """A dict with ``getall``, the shape ``RequestValidator.get_values`` reads repeats from."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def _multi(form: Iterable[tuple[str, str]]) -> _MultiForm:
    grouped = _MultiForm()
    for name, value in form:
        grouped.setdefault(name, []).append(value)
    return grouped
