"""Label selectors (federation.md T-6)."""

from __future__ import annotations

import pytest

from symphony_mesh.model.jsonvalues import JsonMap
from symphony_mesh.providers.selector import LabelSelector, Operator, SelectorError, Term

LABELS: JsonMap = {"region": "eu", "ring": "canary", "example.com/tier": "gold", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("   ", True),
        ("region=eu", True),
        ("region=asia", False),
        ("region!=asia", True),
        ("region!=eu", False),
        ("zone!=x", True),
        ("ring", True),
        ("zone", False),
        ("!zone", True),
        ("!ring", False),
        ("region=eu,ring=canary", True),
        ("region=eu,ring=stable", False),
        (" region = eu , !zone ", True),
        ("example.com/tier=gold", True),
        ("empty=", True),
        ("empty", True),
        ("region=", False),
    ],
)
def test_selector_matches(selector: str, matches: bool) -> None:
    assert LabelSelector.parse(selector).matches(LABELS) is matches


def test_selector_terms() -> None:
    assert LabelSelector.parse("a=1, b!=2, c, !d").terms == (
        Term("a", Operator.EQUALS, "1"),
        Term("b", Operator.NOT_EQUALS, "2"),
        Term("c", Operator.EXISTS),
        Term("d", Operator.ABSENT),
    )


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("a=1,", "empty term"),
        (",a", "empty term"),
        ("a=1,,b", "empty term"),
        ("=eu", "missing key"),
        ("!", "missing key"),
        ("!=x", "missing key"),
        ("a b=c", 'invalid key "a b"'),
        ("-a", 'invalid key "-a"'),
        ("!!a", 'invalid key "!a"'),
        ("a==b", 'invalid value "=b" for key "a"'),
        ("a=b c", 'invalid value "b c" for key "a"'),
        ("a=-b", 'invalid value "-b" for key "a"'),
        ("a=" + "x" * 64, f'invalid value "{"x" * 64}" for key "a"'),
    ],
)
def test_selector_errors(selector: str, reason: str) -> None:
    with pytest.raises(SelectorError) as caught:
        LabelSelector.parse(selector)
    assert caught.value.reason == reason
    assert caught.value.selector == selector
    assert str(caught.value) == f'invalid label selector "{selector}": {reason}'
