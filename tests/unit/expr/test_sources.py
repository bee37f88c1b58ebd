"""The local `$config`/`$secret` resolver (expressions.md 8.5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from symphony_mesh.expr import ExpressionError, LocalSources, Scope, evaluate_template


def _run(template: str, sources: LocalSources) -> object:
    try:
        return evaluate_template(template, Scope(resolver=sources))
    except ExpressionError as exc:
        return ("error", exc.code, exc.message)


def test_not_configured_without_directory_or_variables(tmp_path: Path) -> None:
    sources = LocalSources(tmp_path / "missing", tmp_path / "missing", environ={"OTHER": "1"})
    assert _run("${{$config(a, b)}}", sources) == (
        "error",
        1000,
        "config provider is not configured",
    )
    assert _run("${{$secret(a, b)}}", sources) == (
        "error",
        1000,
        "secret provider is not configured",
    )


def test_one_variable_with_the_prefix_configures_the_provider() -> None:
    sources = LocalSources(
        environ={"SYMPHONY_MESH_CONFIG__X__Y": "1", "SYMPHONY_MESH_CONFIG_DIR": ""}
    )
    assert _run("${{$config(a, b)}}", sources) == (
        "error",
        1000,
        "config field b is not found in object a",
    )
    # SYMPHONY_MESH_CONFIG_DIR has a single underscore: it does not configure anything.
    assert _run("${{$config(a, b)}}", LocalSources(environ={"SYMPHONY_MESH_CONFIG_DIR": "/x"})) == (
        "error",
        1000,
        "config provider is not configured",
    )


def test_variable_names_are_normalized() -> None:
    sources = LocalSources(environ={"SYMPHONY_MESH_CONFIG__MY_APP__DB_PORT": "5432"})
    assert _run("${{$config(my-app, db.port)}}", sources) == "5432"
    assert _run("${{$config('my app', 'db port')}}", sources) == "5432"


def test_config_files_in_order_and_typed(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"port": 1}', encoding="utf-8")
    (tmp_path / "app.yaml").write_text("port: 2\nhost: h\n", encoding="utf-8")
    (tmp_path / "other.yml").write_text(
        "when: 2024-01-02\n3: three\nlist: [1, {a: true}]\n", encoding="utf-8"
    )
    sources = LocalSources(config_dir=tmp_path, environ={})
    assert _run("${{$config(app, port)}}", sources) == 1  # .json is found first
    assert _run("${{$config(app, host)}}", sources) == (
        "error",
        1000,
        "config field host is not found in object app",
    )
    assert _run("${{$config(other, when)}}", sources) == "2024-01-02"
    assert _run("${{$config(other, 3)}}", sources) == "three"
    assert _run("${{$config(other, list)}}", sources) == [1, {"a": True}]
    assert _run("${{$config(app, when, other)}}", sources) == "2024-01-02"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.json", "[1, 2]"),
        ("bad.json", "{not json"),
        ("bad.yaml", "- a\n- b\n"),
        ("bad.yaml", "a: &x [1]\nb: *x\n"),  # aliases are refused
        ("bad.yml", "a: [unclosed\n"),
    ],
)
def test_config_files_must_hold_a_map(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    sources = LocalSources(config_dir=tmp_path, environ={})
    assert _run("${{$config(bad, a)}}", sources) == (
        "error",
        1000,
        "config object bad is not a valid map",
    )


def test_files_are_read_at_each_call(tmp_path: Path) -> None:
    sources = LocalSources(config_dir=tmp_path, environ={})
    (tmp_path / "app.json").write_text('{"v": 1}', encoding="utf-8")
    assert _run("${{$config(app, v)}}", sources) == 1
    (tmp_path / "app.json").write_text('{"v": 2}', encoding="utf-8")
    assert _run("${{$config(app, v)}}", sources) == 2


def test_secrets(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "two").write_text("a\n\n", encoding="utf-8")
    (tmp_path / "db" / "none").write_text("b", encoding="utf-8")
    (tmp_path / "db" / "binary").write_bytes(b"\xff\xfe")
    environ = {"SYMPHONY_MESH_SECRET__DB__NONE": "from-env"}
    sources = LocalSources(secret_dir=tmp_path, environ=environ)
    assert _run("${{$secret(db, two)}}", sources) == "a\n"  # only one line feed removed
    assert _run("${{$secret(db, none)}}", sources) == "from-env"
    assert _run("${{$secret(db, missing)}}", sources) == (
        "error",
        1000,
        "secret field missing is not found in object db",
    )
    assert _run("${{$secret(nobody, x)}}", sources) == (
        "error",
        1000,
        "secret field x is not found in object nobody",
    )
    assert _run("${{$secret(db, binary)}}", sources) == (
        "error",
        1000,
        "secret field binary of object db is not UTF-8 text",
    )


def test_names_are_checked_by_the_resolver_too(tmp_path: Path) -> None:
    sources = LocalSources(config_dir=tmp_path, secret_dir=tmp_path, environ={})
    with pytest.raises(ExpressionError, match=r"^invalid config name \.\.$"):
        sources.config("..", "x", ())
    with pytest.raises(ExpressionError, match=r"^invalid secret name a/b$"):
        sources.secret("x", "a/b")


def test_from_environment(tmp_path: Path) -> None:
    (tmp_path / "app.json").write_text('{"v": 3}', encoding="utf-8")
    sources = LocalSources.from_environment({"SYMPHONY_MESH_CONFIG_DIR": str(tmp_path)})
    assert sources.config_dir == tmp_path
    assert sources.secret_dir is None
    assert _run("${{$config(app, v)}}", sources) == 3
