"""Tests for taskrouter_sandbox.expressions (TaskRouter's expression language)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskrouter_sandbox.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    evaluate,
    parse,
)

# ------------------------------------------------------------------ Twilio documentation examples


@pytest.mark.parametrize(
    ("expression", "document", "expected"),
    [
        (
            "(skills HAS 'support') AND (languages HAS 'english')",
            {"skills": ["support", "sales"], "languages": ["english"]},
            True,
        ),
        (
            "(skills HAS 'support') AND (languages HAS 'english')",
            {"skills": ["sales"], "languages": ["english"]},
            False,
        ),
        (
            "type == 'ticket' AND customer_value IN ['Silver', 'Bronze']",
            {"type": "ticket", "customer_value": "Bronze"},
            True,
        ),
        (
            "type == 'ticket' AND customer_value IN ['Silver', 'Bronze']",
            {"type": "ticket", "customer_value": "Gold"},
            False,
        ),
        (
            "type == 'ticket' AND customer_value IN ['Silver', 'Bronze']",
            {"type": "call", "customer_value": "Silver"},
            False,
        ),
        (
            "task.required_language IN worker.spoken_languages",
            {"task": {"required_language": "fr"}, "worker": {"spoken_languages": ["en", "fr"]}},
            True,
        ),
        (
            "task.required_language IN worker.spoken_languages",
            {"task": {"required_language": "de"}, "worker": {"spoken_languages": ["en", "fr"]}},
            False,
        ),
        (
            "task.required_language IN worker.spoken_languages",
            {"task": {"required_language": "de"}, "worker": {}},
            False,
        ),
        (
            "task.requested_agent==worker.agent_id",
            {"task": {"requested_agent": "a1"}, "worker": {"agent_id": "a1"}},
            True,
        ),
        (
            "task.requested_agent==worker.agent_id",
            {"task": {"requested_agent": "a1"}, "worker": {"agent_id": "a2"}},
            False,
        ),
        ("tech_support_skill < 5", {"tech_support_skill": 3}, True),
        ("tech_support_skill < 5", {"tech_support_skill": 7}, False),
        ("tech_support_skill < 5", {}, False),
        ("tech_support_skill > 5", {"tech_support_skill": "6"}, True),
        (
            "worker.id IN task.preferred_agents",
            {"worker": {"id": "w2"}, "task": {"preferred_agents": ["w1", "w2"]}},
            True,
        ),
        (
            "worker.id IN task.preferred_agents",
            {"worker": {"id": "w3"}, "task": {"preferred_agents": ["w1", "w2"]}},
            False,
        ),
        ("preferred_agents != null", {"preferred_agents": ["w1"]}, True),
        ("preferred_agents != null", {"preferred_agents": None}, False),
        ("preferred_agents != null", {}, False),
        ('languages HAS "es"', {"languages": ["en", "es"]}, True),
        ('languages HAS "es"', {"languages": ["en"]}, False),
        ('selected_language == "es"', {"selected_language": "es"}, True),
        ('selected_language == "es"', {"selected_language": "en"}, False),
        ("workers.available == 0", {"workers": {"available": 0}}, True),
        ("workers.available == 0", {"workers": {"available": 2}}, False),
        ("1==1", {}, True),
        ("1==1", {"anything": [1, {"x": None}]}, True),
    ],
)
def test_documentation_examples(expression: str, document: dict[str, Any], expected: bool) -> None:
    assert evaluate(expression, document) is expected
    assert parse(expression).evaluate(document) is expected


# ------------------------------------------------------------------ operators and aliases

DOC: dict[str, Any] = {
    "n": 5,
    "f": 2.5,
    "s": "hello world",
    "ns": "6",
    "b": True,
    "nil": None,
    "arr": ["a", "b", 3],
    "obj": {"k": "v"},
    "empty": [],
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("n == 5", True), ("n = 5", True), ("n == 4", False), ("n != 4", True), ("n != 5", False),
        ("n < 6", True), ("n < 5", False), ("n <= 5", True), ("n <= 4", False),
        ("n > 4", True), ("n > 5", False), ("n >= 5", True), ("n >= 6", False),
        ("f == 2.5", True), ("n == 5.0", True), ("f < 3", True), ("n > -3", True), ("n>-3", True),
        ("n<-3", False), ("-3 < n", True), ("n == 5e0", True), ("n < 1E1", True),
        ("s CONTAINS 'world'", True), ("s CONTAINS 'World'", False), ("s CONTAINS ''", True),
        ("s contains \"lo w\"", True), ("arr CONTAINS 'a'", False), ("n CONTAINS '5'", False),
        ("s CONTAINS 5", False),
        ("arr HAS 'a'", True), ("arr HAS 'z'", False), ("arr >- 'b'", True), ("arr>-'b'", True),
        ("arr HAS 3", True), ("arr HAS '3'", True), ("s HAS 'h'", False), ("arr HAS ['a']", False),
        ("empty HAS 'a'", False), ("missing HAS 'a'", False),
        ("'a' IN arr", True), ("'z' IN arr", False), ("'b' <- arr", True), ("'b'<-arr", True),
        ("3 IN arr", True), ("'3' IN arr", True), ("'h' IN s", False), ("'a' IN obj", False),
        ("s IN ['hello world', 'x']", True), ("n IN [1, 5]", True), ("n IN []", False),
        ("'z' NOT IN arr", True), ("'a' NOT IN arr", False), ("'h' NOT IN s", False),
        ("missing NOT IN arr", True), ("missing IN arr", False), ("'a' NOT IN missing", False),
        ("obj NOT IN arr", False), ("n NOT IN [1, 2]", True), ("n not  in [5]", False),
        # array IN array: true when any element of the left is in the right
        ("arr IN ['x', 'b']", True), ("arr IN ['x', 'y']", False), ("arr NOT IN ['x']", True),
        ("arr NOT IN ['a']", False), ("empty IN ['a']", False), ("empty NOT IN ['a']", True),
        ("['a', 'q'] IN arr", True), ("['q'] HAS 'q'", True),
    ],
)  # fmt: skip
def test_operators(expression: str, expected: bool) -> None:
    assert evaluate(expression, DOC) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("n == 5 and s contains 'hello'", True), ("n == 5 AnD s == 'x'", False),
        ("n == 4 or s == 'x'", False), ("n == 4 Or n == 5", True),
        ("n == 5 && n == 5", True), ("n == 5 && n == 4", False),
        ("n == 4 || n == 5", True), ("n == 4 || n == 3", False),
        ("arr has 'a'", True), ("arr Has 'a'", True), ("'a' in arr", True), ("'a' iN arr", True),
        ("'z' not in arr", True), ("'z' Not In arr", True),
        ("b == TRUE", True), ("b == True", True),
        ("nil == NULL", True), ("nil == Null", True), ("b != FaLsE", True),
        ("true", True), ("false", False), ("TRUE", True), ("False", False),
        ("true AND n == 5", True), ("false OR n == 4", False), ("true == b", True),
        ("NOT n == 4", True), ("not (n == 5)", False), ("NOT NOT n == 5", True),
        ("NOT (n == 4 OR n == 3)", True), ("NOT true", False), ("not false", True),
        ("NOT in_stock == true", True), ("n NOT\n IN [1]", True), ("NOT n NOT IN [5]", True),
    ],
)  # fmt: skip
def test_logical_operators_and_case_insensitive_keywords(expression: str, expected: bool) -> None:
    assert evaluate(expression, DOC) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # AND binds tighter than OR
        ("n == 5 OR n == 1 AND n == 2", True),
        ("(n == 5 OR n == 1) AND n == 2", False),
        ("n == 1 AND n == 2 OR n == 5", True),
        ("n == 1 AND (n == 2 OR n == 5)", False),
        ("n == 1 OR n == 2 OR n == 3 OR n == 5", True),
        ("n == 5 AND n > 1 AND n < 9 AND s != 'x'", True),
        ("n == 5 AND n > 1 AND n < 9 AND s == 'x'", False),
        ("((((n == 5))))", True),
        ("(n == 5) AND ((s CONTAINS 'hello') OR (arr HAS 'zz'))", True),
        ("NOT n == 5 OR n == 5", True),  # NOT binds to the comparison only
        ("NOT (n == 5 OR n == 5)", False),
        ("1 == 1 AND n == 4", False),
        ("1 == 2 OR n == 5", True),
        ("1 == 2 OR n == 4", False),
    ],
)
def test_precedence_and_parentheses(expression: str, expected: bool) -> None:
    assert evaluate(expression, DOC) is expected


# ------------------------------------------------------------------ references

NESTED: dict[str, Any] = {
    "a": {"b": {"c": 42}, "list": [10, 20, 30], "objs": [{"b": "x"}, {"b": "y"}]},
    "grid": [[1, 2], [3, 4]],
    "task": {"in": "kw-segment", "null": 1},
    "ünï": {"côde": "✓"},
    "_private": 1,
    "x1": "one",
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a.b.c == 42", True),
        ("a.list[2] == 30", True),
        ("a.list[0] == 10", True),
        ("a.list[ 1 ] == 20", True),
        ("a.list[3] == null", True),
        ("a.list[99999999999999999999999] == null", True),
        ("a.objs[1].b == 'y'", True),
        ("a.objs[0].b == 'x'", True),
        ("grid[1][0] == 3", True),
        ("a.missing == null", True),
        ("a.missing.deeper == null", True),
        ("a.b.c.d == null", True),
        ("a.b[0] == null", True),
        ("a.list.x == null", True),
        ("x1[0] == null", True),
        ("nothing.at.all != null", False),
        ("a.b != null", True),
        ("task.in == 'kw-segment'", True),
        ("task.null == 1", True),
        ("ünï.côde == '✓'", True),
        ("_private == 1", True),
        ("x1 == 'one'", True),
    ],
)
def test_nested_references_and_indexes(expression: str, expected: bool) -> None:
    assert evaluate(expression, NESTED) is expected


def test_document_that_is_not_a_mapping_resolves_to_null() -> None:
    for document in (None, [], "text", 3):
        assert evaluate("a.b == null", document) is True  # type: ignore[arg-type]
        assert evaluate("a == null", document) is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expression", "roots"),
    [
        ("languages HAS 'es'", {"languages"}),
        ("task.a == worker.b", {"task", "worker"}),
        ("task.a == 1 AND task.b[0].c IN ['x']", {"task"}),
        ("1 == 1", set()),
        ("true", set()),
    ],
)
def test_roots(expression: str, roots: set[str]) -> None:
    assert parse(expression).roots == frozenset(roots)


# ------------------------------------------------------------------ type rules


@pytest.mark.parametrize(
    ("expression", "document", "expected"),
    [
        # numeric-string coercion against numbers (either side)
        ("v > 5", {"v": "6"}, True),
        ("v == 6", {"v": "6"}, True),
        ("v == 6", {"v": "6.0"}, True),
        ("v < 5", {"v": "-1.5"}, True),
        ("v == 1000", {"v": "1e3"}, True),
        ("v >= 5", {"v": "abc"}, False),
        ("v == 5", {"v": "five"}, False),
        ("v != 5", {"v": "five"}, True),
        ("v == '6'", {"v": 6}, True),
        ("'7' > v", {"v": 6}, True),
        ("v == 6", {"v": " 6"}, False),
        # two strings never coerce: lexicographic order
        ("v > '9'", {"v": "10"}, False),
        ("v < 'b'", {"v": "abc"}, True),
        ("v >= 'abc'", {"v": "abc"}, True),
        ("v > 'Z'", {"v": "a"}, True),
        # booleans are not numbers and have no order
        ("v == 1", {"v": True}, False),
        ("v != 1", {"v": True}, True),
        ("v == true", {"v": 1}, False),
        ("v == 'true'", {"v": True}, False),
        ("v > false", {"v": True}, False),
        ("v == true", {"v": True}, True),
        ("v != true", {"v": False}, True),
        # different types: == false, != true, orderings false
        ("v == 'x'", {"v": 1}, False),
        ("v != 'x'", {"v": 1}, True),
        ("v < 'x'", {"v": 1}, False),
        # arrays/objects with scalar operators are false, including !=
        ("v == 'a'", {"v": ["a"]}, False),
        ("v != 'a'", {"v": ["a"]}, False),
        ("v > 1", {"v": [5]}, False),
        ("v == 'a'", {"v": {"a": 1}}, False),
        ("v != 'a'", {"v": {"a": 1}}, False),
        ("v == [1]", {"v": [1]}, False),
        ("v != [1]", {"v": [2]}, False),
        # null rules
        ("v == null", {}, True),
        ("v == null", {"v": None}, True),
        ("v == null", {"v": 0}, False),
        ("v == null", {"v": ""}, False),
        ("v == null", {"v": []}, False),
        ("v != null", {"v": []}, True),
        ("v != null", {"v": {}}, True),
        ("v != null", {"v": False}, True),
        ("null == v", {}, True),
        ("null != null", {}, False),
        ("null == null", {}, True),
        ("v < 1", {"v": None}, False),
        ("v >= null", {"v": 1}, False),
        ("v <= null", {}, False),
        ("v CONTAINS null", {"v": "x"}, False),
        ("v HAS null", {"v": [1, None]}, True),
        ("v HAS null", {"v": [1]}, False),
        ("null IN v", {"v": [None]}, True),
        # numbers
        ("v == 1", {"v": 1.0}, True),
        ("v > 1", {"v": 10**40}, True),
        ("v < 1e400", {"v": 10**400}, True),
        ("v == v2", {"v": float("nan"), "v2": float("nan")}, False),
        ("v > 1", {"v": "1e999"}, True),
        ("v == 5", {"v": "5" + "0" * 5000}, False),
    ],
)
def test_type_rules(expression: str, document: dict[str, Any], expected: bool) -> None:
    assert evaluate(expression, document) is expected


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        (r"v == 'it\'s'", "it's"),
        (r'v == "say \"hi\""', 'say "hi"'),
        (r"v == 'back\\slash'", "back\\slash"),
        (r"v == 'tab\there'", "tab\there"),
        (r"v == 'line\nbreak'", "line\nbreak"),
        ('v == "it\'s"', "it's"),
        ("v == 'say \"hi\"'", 'say "hi"'),
        ("v == '日本語'", "日本語"),
        ("v == ''", ""),
        ("v == 'AND OR ( ) =='", "AND OR ( ) =="),
    ],
)
def test_string_literals(expression: str, value: str) -> None:
    assert evaluate(expression, {"v": value}) is True


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("expression", "position", "reason"),
    [
        ("languages HAS", 13, "expected a value after HAS"),
        ("a == 'abc", 5, "unterminated string"),
        ('a == "abc\\"', 5, "unterminated string"),
        ("a ==", 4, "expected a value after =="),
        ("a == 1 AND", 10, "expected a comparison after AND"),
        ("a == 1 OR ", 10, "expected a comparison after OR"),
        ("AND a == 1", 0, "expected a comparison"),
        ("== 1", 0, "expected a comparison"),
        ("a NOT IN", 8, "expected a value after NOT IN"),
        ("a NOT b", 6, "expected IN after NOT"),
        ("(a == 1", 7, "missing ')' to close '(' at position 0"),
        ("((a == 1) OR (b == 2)", 21, "missing ')' to close '(' at position 0"),
        ("a == 1)", 6, "unbalanced ')'"),
        ("(a == 1))", 8, "unbalanced ')'"),
        ("()", 1, "expected a comparison"),
        ("(a == 1 b", 8, "expected AND, OR or ')'"),
        ("a == 1 b == 2", 7, "expected AND, OR or the end of the expression"),
        ("skill-level > 3", 5, "hyphens are not supported in attribute names"),
        ("skill-level > 3", 5, "use underscores (e.g. 'skill_level')"),
        ("task.skill-level > 3", 10, "hyphens are not supported"),
        ("a == 1 $", 7, "unexpected character '$'"),
        ("a & b", 2, "unexpected character '&'"),
        ("!(a == 1)", 0, "unexpected character '!'"),
        ("a == 1 # comment", 7, "unexpected character '#'"),
        ("is_vip", 6, "expected a comparison operator after 'is_vip'"),
        ("is_vip AND a == 1", 7, "expected a comparison operator after 'is_vip'"),
        ("'yes'", 5, "expected a comparison operator"),
        ("null", 4, "expected a comparison operator after NULL"),
        ("5", 1, "expected a comparison operator"),
        ("a.", 2, "expected an attribute name after '.'"),
        ("a.1 == 2", 2, "expected an attribute name after '.'"),
        ("a[x] == 1", 1, "integer index"),
        ("a[-1] == 1", 1, "integer index"),
        ("1abc == 1", 0, "invalid number"),
        ("1.2.3 == 1", 0, "invalid number"),
        ("a IN [1, 2", 10, "expected ',' or ']'"),
        ("a IN [1,]", 8, "expected a constant in the array"),
        ("a IN [b]", 6, "expected a constant in the array"),
        ("a IN [[1]]", 6, "expected a constant in the array"),
        ("has.x == 1", 3, "unexpected character '.'"),
        ("", 0, "expression is empty"),
        ("   \n\t ", 0, "expression is empty"),
        ("a == " + "9" * 5000, 5, "too many digits"),
    ],
)
def test_parse_errors(expression: str, position: int, reason: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(expression)
    error = info.value
    assert error.position == position
    assert reason in error.reason
    assert error.expression == expression
    assert str(error).startswith("Invalid expression ")
    assert f"at position {position}: {error.reason}" in str(error)
    with pytest.raises(ExpressionError):
        evaluate(expression, {})


def test_error_message_format_and_pointer() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("languages HAS")
    error = info.value
    assert isinstance(error, ValueError)
    assert str(error) == (
        "Invalid expression 'languages HAS' at position 13: expected a value after HAS"
    )
    assert error.pointer() == "languages HAS\n             ^"
    assert error.reason == "expected a value after HAS"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.expression, copy.position, copy.reason) == (error.expression, 13, error.reason)


def test_pointer_keeps_caret_aligned_over_tabs_and_newlines() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("a == 1\n\tAND $")
    assert info.value.position == 12
    assert info.value.pointer() == "a == 1  AND $\n            ^"


def test_hyphen_error_matches_twilio_wording() -> None:
    with pytest.raises(ExpressionError, match="hyphens are not supported") as info:
        parse("skill-level > 3")
    assert "underscore" in info.value.reason


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("task.a == foo.b", 10),
        ("queue == 'x'", 0),
        ("task.a == 1 AND (worker.b == 2 OR other == 3)", 34),
        ("taskx.a == 1", 0),
    ],
)
def test_prefixes_violation(expression: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(expression, prefixes=("task", "worker"))
    assert info.value.position == position
    assert "keys must start with task. or worker." in info.value.reason


def test_prefixes_accepted() -> None:
    expr = parse("task.lang IN worker.langs AND worker.level >= 3", prefixes=["worker", "task"])
    assert expr.roots == {"task", "worker"}
    assert expr.evaluate({"task": {"lang": "en"}, "worker": {"langs": ["en"], "level": 3}})
    assert parse("1 == 1", prefixes=()).evaluate({})
    assert parse("workers.available == 0", prefixes="workers").roots == {"workers"}
    with pytest.raises(ExpressionError, match="keys must start"):
        parse("a == 1", prefixes=())


def test_nesting_depth_limit() -> None:
    ok = "(" * MAX_DEPTH + "a == 1" + ")" * MAX_DEPTH
    assert parse(ok).evaluate({"a": 1})
    too_deep = "(" * (MAX_DEPTH + 1) + "a == 1" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExpressionError, match="nested") as info:
        parse(too_deep)
    assert info.value.position == MAX_DEPTH
    with pytest.raises(ExpressionError, match="nested"):
        parse("(" * 5000)
    # many NOTs and long AND chains are iterative, never recursive
    assert parse("NOT " * 2000 + "a == 1").evaluate({"a": 1})
    assert parse(" AND ".join(["a == 1"] * 600)).evaluate({"a": 1})


def test_length_limit() -> None:
    fits = "a == '" + "x" * (MAX_LENGTH - 7) + "'"
    assert len(fits) == MAX_LENGTH
    assert parse(fits).evaluate({"a": "x" * (MAX_LENGTH - 7)})
    with pytest.raises(ExpressionError, match="is over") as info:
        parse(fits + " ")
    assert info.value.position == MAX_LENGTH
    assert len(str(info.value)) < 400


def test_non_string_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ API details


def test_expression_object() -> None:
    expr = parse("a == 1")
    assert isinstance(expr, Expression)
    assert expr.source == "a == 1"
    assert repr(expr) == "Expression('a == 1')"
    assert expr.evaluate({"a": 1}) is True
    assert expr.evaluate({"a": 2}) is False
    assert evaluate("a == 1", {"a": 1}) is True  # served from the cache the second time
    assert evaluate("a == 1", {"a": 1}) is True


def test_compiled_expression_is_reusable_across_documents() -> None:
    expr = parse("task.priority > 3 AND worker.skills HAS task.skill")
    docs = [
        ({"task": {"priority": p, "skill": "s"}, "worker": {"skills": ["s"]}}, p > 3)
        for p in range(8)
    ]
    for document, expected in docs:
        assert expr.evaluate(document) is expected


# ------------------------------------------------------------------ properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(["6", "-1.5", "1e3", "es", "en", "support", ""]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "id", "list", "0"]), children, max_size=4)
    ),
    max_leaves=20,
)
documents = st.dictionaries(
    st.sampled_from(["a", "b", "languages", "skills", "task", "worker", "x"]),
    json_values,
    max_size=6,
)

FIXED = [
    parse(text)
    for text in (
        "a == 1",
        "a != 'x'",
        "a > 5 OR b <= '6'",
        "a CONTAINS 'e' AND b CONTAINS a",
        "languages HAS 'es'",
        "skills >- a",
        "a IN b",
        "a <- ['x', 1, null, true]",
        "a NOT IN b",
        "a.b.c[0] == null",
        "a[1].b[2][3] != null",
        "task.required_language IN worker.spoken_languages",
        "task.requested_agent == worker.agent_id",
        "NOT (a == b OR x >= a) AND true",
        "x.a = x.b",
    )
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_evaluate_never_raises_on_json_documents(document: dict[str, Any]) -> None:
    for expr in FIXED:
        assert expr.evaluate(document) in (True, False)


TOKENS = [
    "a", "b.c", "x[0]", "x[", "]", "[", ",", "(", ")", "==", "=", "!=", "<", "<=", ">", ">=",
    ">-", "<-", "AND", "or", "&&", "||", "NOT", "in", "HAS", "contains", "true", "null", "1",
    "-2.5", "'s'", '"t', "\\", "-", ".", "$", "skill-level", "   ",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60) | st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join))
def test_parse_returns_expression_or_raises_expression_error(text: str) -> None:
    try:
        expr = parse(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
        assert error.pointer().count("\n") == 1
    else:
        assert isinstance(expr, Expression)
        assert expr.evaluate({"a": 1, "b": {"c": [1]}, "x": ["y"]}) in (True, False)
