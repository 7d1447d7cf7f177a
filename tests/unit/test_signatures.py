"""``helpers.signatures.SignatureCheck`` gives twilio's ``RequestValidator.validate`` verdict on
every shape of request the callback server checks: the signature computed by the real SDK,
with and without the port, repeated names, blank and non-ASCII values, forged or damaged
signatures, and the ``bodySHA256`` variant."""

from __future__ import annotations

import random

import pytest
from twilio.request_validator import RequestValidator

from helpers.signatures import SignatureCheck

TOKEN = "12345678901234567890123456789012"
FORM = [
    ("AccountSid", "AC" + "0" * 32),
    ("TaskAttributes", '{"selected_language": "es", "name": "Zoë"}'),
    ("WorkerAttributes", ""),
    ("TaskSid", "WT" + "1" * 32),
]
URLS = [
    "http://127.0.0.1:8080/assignment_callback",
    "http://127.0.0.1/assignment_callback",
    "https://abc.ngrok.app/assignment_callback",
    "https://abc.ngrok.app:443/assignment_callback?x=1&y=%20",
    "http://[::1]:5000/events",
]


class _Multi(dict[str, list[str]]):
    def getall(self, name: str) -> list[str]:
        return self[name]


def twilio_verdict(url: str, form: list[tuple[str, str]], signature: str) -> bool:
    grouped = _Multi()
    for name, value in form:
        grouped.setdefault(name, []).append(value)
    return bool(RequestValidator(TOKEN).validate(url, grouped, signature))


def signatures_for(url: str, form: list[tuple[str, str]]) -> list[str]:
    """What TaskRouter would send (for this URL, with and without the port), and forgeries."""
    validator = RequestValidator(TOKEN)
    grouped = _Multi()
    for name, value in form:
        grouped.setdefault(name, []).append(value)
    real = validator.compute_signature(url, grouped)
    other_port = validator.compute_signature(url.replace(":8080", ":8081"), grouped)
    other_token = RequestValidator("x" * 32).compute_signature(url, grouped)
    return [real, real[:-2] + "AA", other_port, other_token, "", "é" * 28, real + " "]


@pytest.mark.parametrize("url", URLS)
def test_same_verdict_as_twilio_for_every_url_and_signature(url: str) -> None:
    check = SignatureCheck(TOKEN)
    shapes = [FORM, [], [*FORM, ("TaskSid", "WT" + "2" * 32)], list(reversed(FORM))]
    for form in shapes:
        for signature in signatures_for(url, form):
            expected = twilio_verdict(url, form, signature)
            assert check.validate(url, form, signature) is expected, (url, form, signature)
    assert any(check.validate(url, FORM, s) for s in signatures_for(url, FORM))  # not all False


def test_the_port_variants_validate_as_twilios_do() -> None:
    check = SignatureCheck(TOKEN)
    without_port = RequestValidator(TOKEN).compute_signature("https://a.example/cb", dict(FORM))
    for url in ("https://a.example/cb", "https://a.example:443/cb"):
        assert check.validate(url, FORM, without_port)
        assert twilio_verdict(url, FORM, without_port)
    other = "https://a.example:8443/cb"  # twilio drops any port in its second try
    assert check.validate(other, FORM, without_port) is twilio_verdict(other, FORM, without_port)
    assert not check.validate("https://b.example/cb", FORM, without_port)


def test_random_forms_agree_with_twilio() -> None:
    rng = random.Random(7)
    check = SignatureCheck(TOKEN)
    alphabet = "aZ09 _-%&=+é€\u00a0"
    for _ in range(300):
        form = [
            ("".join(rng.choices(alphabet, k=rng.randint(1, 6))),
             "".join(rng.choices(alphabet, k=rng.randint(0, 12))))
            for _ in range(rng.randint(0, 5))
        ]  # fmt: skip
        url = rng.choice(URLS)
        for signature in signatures_for(url, form)[:2]:
            assert check.validate(url, form, signature) is twilio_verdict(url, form, signature)


def test_a_body_hash_url_goes_to_twilios_own_code() -> None:
    body = '{"a": 1}'
    validator = RequestValidator(TOKEN)
    url = f"https://a.example/cb?bodySHA256={validator.compute_hash(body)}"
    signature = validator.compute_signature(url, {})
    check = SignatureCheck(TOKEN)
    assert check.validate(url, [], signature) is twilio_verdict(url, [], signature) is True
    assert check.validate(url, [], signature[:-2] + "AA") is False
