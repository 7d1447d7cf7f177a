"""``models.read_attributes``: routing's shared parse of an attributes text."""

from __future__ import annotations

from taskrouter_sandbox import models
from taskrouter_sandbox.models import json_object, read_attributes


def test_reads_as_json_object_does_and_parses_each_text_once() -> None:
    for text in ('{"skills": ["en"], "level": 3}', "[1, 2]", "not json", "", None, '"x"'):
        assert read_attributes(text) == json_object(text)
    first = read_attributes('{"team": "red"}')
    assert read_attributes('{"team": "red"}') is first  # the one parse, shared


def test_keeps_a_bounded_number_of_texts() -> None:
    for i in range(models.PARSED_KEPT + 10):
        assert read_attributes(f'{{"n": {i}}}') == {"n": i}
    assert len(models._PARSED) <= models.PARSED_KEPT
