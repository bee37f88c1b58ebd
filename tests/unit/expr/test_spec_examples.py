"""Every example of expressions.md section 14, as one parametrized test each.

Rows X1-X259 are data (`spec_table.py`); rows X260-X274 need config files, variables or generated
templates and are built here. Results are compared with their type: `1` is not `1.0` or `True`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from symphony_mesh.expr import (
    ExpressionError,
    JsonValue,
    LocalSources,
    Scope,
    evaluate_template,
)
from tests.unit.expr.spec_table import EXAMPLES


def _outcome(template: str, scope: Scope) -> tuple[Any, ...]:
    try:
        return ("value", evaluate_template(template, scope))
    except ExpressionError as exc:
        return ("error", exc.code, exc.message)


def _same(actual: JsonValue, expected: JsonValue) -> bool:
    """Equal and of the same JSON types all the way down (`1` is neither `1.0` nor `true`)."""
    if type(actual) is not type(expected):
        return False
    if isinstance(actual, list) and isinstance(expected, list):
        return len(actual) == len(expected) and all(
            _same(a, b) for a, b in zip(actual, expected, strict=True)
        )
    if isinstance(actual, dict) and isinstance(expected, dict):
        return list(actual) == list(expected) and all(
            _same(actual[key], expected[key]) for key in actual
        )
    return actual == expected


def _check(outcome: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    assert outcome[0] == expected[0], outcome
    if expected[0] == "error":
        assert outcome[1:] == expected[1:]
    else:
        assert _same(outcome[1], expected[1]), (outcome[1], expected[1])


@pytest.mark.parametrize(
    ("template", "scope", "expected"),
    [pytest.param(row[1], row[2], row[3], id=row[0]) for row in EXAMPLES],
)
def test_table_row(template: str, scope: dict[str, Any], expected: tuple[Any, ...]) -> None:
    _check(_outcome(template, Scope(**scope)), expected)


def test_table_is_complete() -> None:
    ids = [row[0] for row in EXAMPLES]
    assert ids == [f"X{n}" for n in range(1, 260)]


# --- X260-X266: $config and $secret ------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "app.json").write_text('{"port":8080,"host":"db"}', encoding="utf-8")
    return directory


def _config_scope(config_dir: Path | None, environ: dict[str, str] | None = None) -> Scope:
    return Scope(resolver=LocalSources(config_dir=config_dir, environ=environ or {}))


def test_x260_config_from_file(config_dir: Path) -> None:
    _check(_outcome("${{$config(app, port)}}", _config_scope(config_dir)), ("value", 8080))


def test_x261_overlay_first(config_dir: Path) -> None:
    (config_dir / "prod.yaml").write_text("port: 9090\n", encoding="utf-8")
    scope = _config_scope(config_dir)
    _check(_outcome("${{$config(app, port, prod)}}", scope), ("value", 9090))


def test_x262_missing_field(config_dir: Path) -> None:
    _check(
        _outcome("${{$config(app, user)}}", _config_scope(config_dir)),
        ("error", 1000, "config field user is not found in object app"),
    )


def test_x263_variable_wins(config_dir: Path) -> None:
    scope = _config_scope(config_dir, {"SYMPHONY_MESH_CONFIG__APP__PORT": "7000"})
    _check(_outcome("${{$config(app, port)}}", scope), ("value", "7000"))


def test_x264_secret_file(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "password").write_text("s3cret\n", encoding="utf-8")
    scope = Scope(resolver=LocalSources(secret_dir=tmp_path, environ={}))
    _check(_outcome("${{$secret(db, password)}}", scope), ("value", "s3cret"))


def test_x265_secret_variable() -> None:
    environ = {"SYMPHONY_MESH_SECRET__DB__PASSWORD": "env-pw"}
    scope = Scope(resolver=LocalSources(environ=environ))
    _check(_outcome("${{$secret(db, password)}}", scope), ("value", "env-pw"))


def test_x266_no_path_traversal(tmp_path: Path) -> None:
    scope = Scope(resolver=LocalSources(secret_dir=tmp_path, environ={}))
    _check(_outcome("${{$secret(../x, y)}}", scope), ("error", 1000, "invalid secret name ../x"))


# --- X267-X274: limits -------------------------------------------------------------------------

NESTED = "expression is nested more than 64 levels deep"


def _ones(terms: int) -> str:
    return "+".join(["1"] * terms)


@pytest.mark.parametrize(
    ("template", "scope", "expected"),
    [
        pytest.param("${{" + "(" * 64 + "1" + ")" * 64 + "}}", {}, ("value", 1), id="X267"),
        pytest.param(
            "${{" + "(" * 65 + "1" + ")" * 65 + "}}", {}, ("error", 1000, NESTED), id="X268"
        ),
        pytest.param("${{" + "-" * 65 + "1}}", {}, ("error", 1000, NESTED), id="X269"),
        pytest.param("${{" + _ones(20_000) + "}}", {}, ("value", 20_000), id="X270"),
        pytest.param(
            "x" * 65_537,
            {},
            ("error", 1000, "template is longer than 65536 bytes"),
            id="X271",
        ),
        pytest.param(
            "${{$base64encode($trigger(s, ''))}}",
            {"triggers": {"s": "x" * 800_000}},
            ("error", 1000, "string result is longer than 1048576 bytes"),
            id="X272",
        ),
        pytest.param(
            "${{$input(a)}}",
            {
                "inputs": {
                    "a": "${{$input(b)" + "+1" * 20_000 + "}}",
                    "b": "${{$input(c)" + "+1" * 20_000 + "}}",
                    "c": "${{" + _ones(20_000) + "}}",
                }
            },
            ("error", 1000, "expression evaluation exceeded 100000 steps"),
            id="X273",
        ),
        pytest.param(
            "${{$input(a)}}",
            {
                "inputs": {
                    "a": "${{$input(b)" + "+1" * 20_000 + "}}",
                    "b": "${{" + _ones(20_000) + "}}",
                }
            },
            ("value", 40_000),
            id="X274",
        ),
    ],
)
def test_limit_rows(template: str, scope: dict[str, Any], expected: tuple[Any, ...]) -> None:
    _check(_outcome(template, Scope(**scope)), expected)


def test_x270_template_size_matches_the_spec() -> None:
    assert len(("${{" + _ones(20_000) + "}}").encode()) == 40_004


def test_x271_multibyte_characters_count_as_bytes() -> None:
    # 21 846 three-byte characters are 65 538 bytes although only 21 846 characters.
    with pytest.raises(ExpressionError, match="template is longer than 65536 bytes"):
        evaluate_template("€" * 21_846)
    assert evaluate_template("€" * 21_845 + "x") == "€" * 21_845 + "x"
