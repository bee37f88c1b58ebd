"""The JSONPath subset (expressions.md 9)."""

from __future__ import annotations

import time

import pytest

from symphony_mesh.expr import ExpressionError, ExpressionLookupError, JsonValue, jsonpath_query

DOC: JsonValue = {
    "name": "root",
    "items": [
        {"name": "a", "id": 1, "tags": {"env": "prod"}, "score": 2.5},
        {"name": "b", "id": 2, "tags": {"env": "dev"}, "score": 10},
        {"name": "c", "id": 3.0, "flag": True, "nothing": None},
    ],
    "odd-key": {"x y": 5},
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("$", DOC),
        ("", DOC),
        ("$.name", "root"),
        (".name", "root"),
        ("{$.name}", "root"),
        ("{.name}", "root"),
        ("$['name']", "root"),
        ('$["odd-key"]["x y"]', 5),
        ("$.odd-key['x y']", 5),
        ("$.items[0].name", "a"),
        ("$.items[-1].name", "c"),
        ("$.items[*].name", ["a", "b", "c"]),
        ("$.items.*.id", [1, 2, 3]),  # integral floats come back as integers
        ("$.items[0:2].id", [1, 2]),
        ("$.items[1:].id", [2, 3]),
        ("$.items[:-2].id", 1),
        ("$.items[ 1 ].id", 2),
        ("$..env", ["prod", "dev"]),
        ("$..items[0].id", 1),
        ("$.items[0].tags..*", "prod"),
        ("$..[2].name", "c"),
        ('$.items[?(@.name=="b")].id', 2),
        ("$.items[?(@.name == 'b')].id", 2),
        ("$.items[?(@.id>1)].name", ["b", "c"]),
        ("$.items[?(@.id>=2)].name", ["b", "c"]),
        ("$.items[?(@.id<2)].name", "a"),
        ("$.items[?(@.id<=1.0)].name", "a"),
        ("$.items[?(@.id!=2)].name", ["a", "c"]),
        ("$.items[?(@.score>3)].name", "b"),
        ("$.items[?(@.tags.env=='dev')].name", "b"),
        ("$.items[?(@.flag==true)].name", "c"),
        ("$.items[?(@.nothing==null)].name", "c"),
        ("$.items[?(@.flag)].name", "c"),
        ("$.items[?(@.nothing)].name", "c"),  # exists, although null
        ("$.items[?(@.name!=1)].name", ["a", "b", "c"]),  # other types are unequal
    ],
)
def test_queries(query: str, expected: JsonValue) -> None:
    result = jsonpath_query(DOC, query)
    assert result == expected
    assert type(result) is type(expected)


def test_filters_on_a_single_map_retry_it_as_a_list() -> None:
    assert jsonpath_query({"a": "x", "b": 1}, '$[?(@.a=="x")].b') == 1
    assert jsonpath_query({"a": 1}, "$[0].a") == 1


def test_element_filters_on_scalars_and_the_element_itself() -> None:
    assert jsonpath_query([1, 5, 9], "$[?(@>4)]") == [5, 9]
    assert jsonpath_query(["a", "b"], "$[?(@=='b')]") == "b"
    assert jsonpath_query([True, 1], "$[?(@==1)]") == 1  # a boolean is not the number 1


@pytest.mark.parametrize(
    "query",
    ['$.items[?(@.id=="1")]', "$.nope", "$.items[7]", "$.name.x", "$.items.name", "$[*].z"],
)
def test_no_match_is_a_500_lookup_error(query: str) -> None:
    with pytest.raises(ExpressionLookupError) as caught:
        jsonpath_query(DOC, query)
    assert caught.value.code == 500
    assert caught.value.message == f"no matches found by JsonPath query '{query}'"


@pytest.mark.parametrize(
    "query", ["name", "$.", "$..", "$[", "$[a]", "$[1,2]", "$[::2]", "$[?(@.a ~ 1)]", "$x"]
)
def test_invalid_queries(query: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        jsonpath_query(DOC, query)
    assert caught.value.code == 1000
    assert caught.value.message == f"invalid JsonPath query '{query}'"


def test_deep_data_and_results_are_copies() -> None:
    deep: JsonValue = {"v": 1.0}
    for _ in range(20_000):
        deep = {"n": deep}
    assert jsonpath_query(deep, "$..v") == 1
    data: JsonValue = {"a": [1.0, {"b": 2.0}]}
    result = jsonpath_query(data, "$.a")
    assert result == [1, {"b": 2}]
    assert data == {"a": [1.0, {"b": 2.0}]}
    assert isinstance(data["a"][0], float)  # type: ignore[index]  # the data is untouched


def test_overlapping_descents_stay_linear() -> None:
    deep: JsonValue = 1
    for _ in range(30_000):
        deep = {"d": deep}
    start = time.perf_counter()
    matches = jsonpath_query(deep, "$..d..d..d")
    assert isinstance(matches, list)
    assert matches[-1] == 1
    assert time.perf_counter() - start < 3.0
    # Each value is reported once, in document order.
    assert jsonpath_query({"d": {"d": {"d": 1}}}, "$..d..d") == [{"d": 1}, 1]
