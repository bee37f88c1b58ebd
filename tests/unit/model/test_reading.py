"""Reading files (campaigns.md 3.1): formats, numbering, and every refusal."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symphony_mesh.errors import ValidationError
from symphony_mesh.model import read_documents
from symphony_mesh.model.reading import MAX_FILE_BYTES


def refusal(content: bytes, source: str = "f.yaml") -> str:
    """The single `error:` line (without the prefix) for an unreadable file."""
    with pytest.raises(ValidationError) as caught:
        read_documents(content, source)
    error = caught.value
    assert error.message == f"1 validation error(s) in {source}"
    assert error.reason == "VALIDATION_FAILED"
    (violation,) = error.violations
    return f"{violation.field}: {violation.description}"


def bodies(content: bytes) -> list[object]:
    return [document.body for document in read_documents(content, "f")]


def test_size_limit() -> None:
    assert refusal(b"#" * (MAX_FILE_BYTES + 1), "-") == "-: file is larger than 4 MiB"
    assert bodies(b"#" * (MAX_FILE_BYTES - 10) + b"\na: 1") == [{"a": 1}]


def test_aliases_and_anchors_are_refused() -> None:
    assert refusal(b"a: &x 1\nb: *x\n") == "document 1: YAML aliases are not allowed"
    assert refusal(b"a: 1\n---\nb: &y [1]\n") == "document 2: YAML aliases are not allowed"


def test_billion_laughs_is_refused_at_once() -> None:
    laughs = b'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b]\n'
    assert refusal(laughs) == "document 1: YAML aliases are not allowed"


def test_tags_are_refused() -> None:
    assert (
        refusal(b"a: !foo 1\n") == 'document 1: YAML tag "!foo" is not allowed at line 1, column 4'
    )
    assert refusal(b"x: 1\n---\na: !!binary aGk=\n").startswith(
        'document 2: YAML tag "!!binary" is not allowed'
    )
    assert refusal(b"!!python/object:os.system {}\n").startswith("document 1: YAML tag")
    assert bodies(b"a: !!str 1\nb: !!int '2'\n") == [{"a": "1", "b": 2}]


def test_parse_errors_are_one_line() -> None:
    line = refusal(b"a: [1, 2\nb: c\n", "camp.yaml")
    assert line.startswith("camp.yaml: cannot parse: ")
    assert "line " in line
    assert "\n" not in line
    assert refusal(b"a: b: c\n") == (
        "f.yaml: cannot parse: mapping values are not allowed in this context at line 1, column 5"
    )


def test_json_errors_use_json_words() -> None:
    assert refusal(b'{"a": 1 "b": 2}', "x.json") == (
        "x.json: cannot parse: Expecting ',' delimiter at line 1, column 9"
    )


def test_invalid_utf8() -> None:
    assert refusal(b"a: \xff\n") == "f.yaml: cannot parse: invalid UTF-8 at byte 3"


def test_empty_documents_are_skipped_and_not_numbered() -> None:
    assert read_documents(b"", "f") == []
    assert read_documents(b"---\n---\n", "f") == []
    documents = read_documents(b"---\n---\na: 1\n---\n---\nb: 2\n", "f")
    assert [(d.number, d.body) for d in documents] == [(1, {"a": 1}), (2, {"b": 2})]
    assert documents[1].label == "document 2"
    assert refusal(b"---\na: 1\n---\n\n---\nb: *x\n") == "document 2: YAML aliases are not allowed"


def test_json_forms() -> None:
    one = {"kind": "Campaign"}
    assert bodies(json.dumps(one).encode()) == [one]
    assert bodies(json.dumps([one, {"kind": "Activation"}]).encode()) == [
        one,
        {"kind": "Activation"},
    ]
    assert bodies(json.dumps({"items": [one, one]}).encode()) == [one, one]
    assert bodies(json.dumps({"items": []}).encode()) == []
    assert bodies(b'\xef\xbb\xbf  [{"a": 1}, null]') == [{"a": 1}]


def test_yaml_list_forms() -> None:
    assert bodies(b"items:\n- {a: 1}\n- {b: 2}\n---\nc: 3\n") == [{"a": 1}, {"b": 2}, {"c": 3}]
    assert bodies(b"- a: 1\n- b: 2\n") == [{"a": 1}, {"b": 2}]
    # A document that merely has an `items` key next to a spec is a document.
    assert bodies(b"spec: {}\nitems: [1]\n") == [{"spec": {}, "items": [1]}]


def test_flow_yaml_that_is_not_json() -> None:
    assert bodies(b"{apiVersion: workflow.symphony/v1, kind: Campaign}") == [
        {"apiVersion": "workflow.symphony/v1", "kind": "Campaign"}
    ]


def test_yaml_values_stay_json() -> None:
    text = b"when: 2023-10-23T21:40:00-08:00\nday: 2026-01-01\non: yes\n1: one\n~: n\nf: 1.5\n"
    assert bodies(text) == [
        {
            "when": "2023-10-23T21:40:00-08:00",
            "day": "2026-01-01",
            "on": True,
            "1": "one",
            "~": "n",
            "f": 1.5,
        }
    ]


def test_non_finite_numbers_and_complex_keys_are_refused() -> None:
    assert "infinite and NaN numbers are not allowed" in refusal(b"a: .inf\n")
    assert "mapping keys must be scalars" in refusal(b"? [a]\n: 1\n")


def test_nesting_is_bounded() -> None:
    assert refusal(b"a: " + b"[" * 150 + b"]" * 150) == "document 1: nesting deeper than 100 levels"
    assert refusal(b"[" * 150 + b"]" * 150) == "document 1: nesting deeper than 100 levels"
    assert refusal(b"[" * 200_000 + b"]" * 200_000, "deep.json") == (
        "deep.json: cannot parse: nesting deeper than 100 levels"
    )
    assert bodies(b"a: " + b"[" * 90 + b"]" * 90)


def test_numbers_json_cannot_carry_are_refused() -> None:
    assert (
        refusal(b'{"a": 1e400}', "x.json") == "x.json: cannot parse: number 1e400 is out of range"
    )
    assert refusal(b'{"a": NaN}', "x.json") == "x.json: cannot parse: NaN is not allowed"
    assert refusal(b"a: " + b"9" * 5000).startswith("f.yaml: cannot parse: ")
    assert bodies(b'{"a": ' + b"9" * 100 + b"}") == [{"a": int("9" * 100)}]


def test_lone_surrogates_are_refused() -> None:
    assert refusal(b'[{"a": 1}, {"a": "\\ud800"}]') == (
        "document 2: contains text that is not valid Unicode"
    )


def test_pure_python_parser_fallback() -> None:
    """Without libyaml the same rules hold (PyYAML's Python parser feeds our composer)."""
    code = (
        "import sys; sys.modules['yaml._yaml'] = None\n"
        "from symphony_mesh.model import reading as r\n"
        "from symphony_mesh.errors import ValidationError\n"
        "assert r._Events is r._PythonEvents\n"
        "assert [d.body for d in r.read_documents(b'a: 1\\n---\\nb: [x]', 'f')] == "
        "[{'a': 1}, {'b': ['x']}]\n"
        "try:\n"
        "    r.read_documents(b'a: &x 1\\nb: *x', 'f')\n"
        "except ValidationError as e:\n"
        "    print(e.violations[0].description)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "YAML aliases are not allowed"
