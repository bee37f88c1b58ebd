"""Reading an applied file into raw documents (campaigns.md section 3.1).

`read_documents(content, source)` accepts:

- JSON: one object, an array of objects, or `{"items": [...]}` as `get ... -o json` prints it.
  Text starting with `{` or `[` is read as JSON first, so that a JSON syntax error is reported
  with the JSON parser's words; when it is not JSON but valid (flow-style) YAML, YAML wins.
- YAML: one or more documents separated by `---`, read with a safe loader of our own that knows
  only the JSON types: YAML anchors and aliases are refused (this also defeats "billion laughs"),
  tags other than the core JSON ones (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!map`,
  `!!seq`) are refused, timestamps stay strings (a `schedule` is text), mapping keys keep their
  text (`on:` stays `"on"`), and non-finite numbers are refused. A YAML document holding only
  `items: [...]` (the `-o yaml` list form) or a list of documents is expanded like JSON.

Empty documents are skipped and do not count: documents are numbered from 1 in file order among
the non-empty ones, and that number is `<n>` in `document <n>` messages. Maps and lists may nest at
most 100 levels. Every problem raises `ValidationError` with one `FieldViolation` whose `field`
is the source (or `document <n>`) and whose `description` is the text after it, so that the CLI's
`error: <field>: <description>` reproduces the lines of section 3.1.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from symphony_mesh.errors import FieldViolation, ValidationError
from symphony_mesh.model.jsonvalues import MAX_NESTING, JsonValue, compact_json, nesting_depth

__all__ = [
    "MAX_FILE_BYTES",
    "RawDocument",
    "read_documents",
    "read_error",
]

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Files larger than 4 MiB are refused."""


@dataclass(frozen=True)
class RawDocument:
    """One document of a file, as parsed and not yet validated."""

    number: int
    """1-based position among the non-empty documents of the file."""
    body: JsonValue
    """The decoded value; normally a map, but anything a file may hold."""

    @property
    def label(self) -> str:
        """`document <n>`: how messages name a document whose kind or name is unusable."""
        return f"document {self.number}"


def read_error(where: str, text: str, source: str) -> ValidationError:
    """The `ValidationError` for one reading problem (`error: <where>: <text>`)."""
    return ValidationError(
        f"1 validation error(s) in {source}",
        "VALIDATION_FAILED",
        violations=[FieldViolation(field=where, description=text)],
    )


class _DocumentProblem(Exception):
    """A problem inside one YAML document, reported as `document <n>: <text>`."""

    def __init__(self, number: int, text: str) -> None:
        super().__init__(text)
        self.where = f"document {number}"
        self.text = text


def read_documents(content: bytes, source: str) -> list[RawDocument]:
    """Parse a file's bytes into numbered raw documents; raise `ValidationError` on failure."""
    if len(content) > MAX_FILE_BYTES:
        raise read_error(source, "file is larger than 4 MiB", source)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise read_error(
            source, f"cannot parse: invalid UTF-8 at byte {exc.start}", source
        ) from None
    values = _parse(text, source)
    documents: list[RawDocument] = []
    for value in _expand(values):
        if value is None:
            continue
        number = len(documents) + 1
        if nesting_depth(value) > MAX_NESTING:
            raise read_error(
                f"document {number}", f"nesting deeper than {MAX_NESTING} levels", source
            )
        try:
            # Lone surrogates (JSON "\ud800") cannot be stored or sent as UTF-8 later on.
            compact_json(value).encode("utf-8")
        except UnicodeEncodeError:
            raise read_error(
                f"document {number}", "contains text that is not valid Unicode", source
            ) from None
        documents.append(RawDocument(number, value))
    return documents


def _parse(text: str, source: str) -> list[JsonValue]:
    stripped = text.lstrip()
    json_error: str | None = None
    if stripped[:1] in ("{", "["):
        try:
            return [_parse_json(text)]
        except RecursionError:
            raise read_error(
                source, f"cannot parse: nesting deeper than {MAX_NESTING} levels", source
            ) from None
        except _JsonRefused as exc:
            raise read_error(source, f"cannot parse: {exc}", source) from None
        except ValueError as exc:
            json_error = _json_message(exc)
    try:
        return _parse_yaml(text)
    except _DocumentProblem as exc:
        raise read_error(exc.where, exc.text, source) from None
    except yaml.YAMLError as exc:
        message = json_error or _yaml_message(exc)
        raise read_error(source, f"cannot parse: {message}", source) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        message = json_error or " ".join(str(exc).split())
        raise read_error(source, f"cannot parse: {message}", source) from None


class _JsonRefused(ValueError):
    """Valid JSON syntax holding a number JSON documents may not hold."""


def _reject_constant(name: str) -> float:
    raise _JsonRefused(f"{name} is not allowed")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonRefused(f"number {text} is out of range")
    return value


def _parse_json(text: str) -> JsonValue:
    value: JsonValue = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    return value


def _json_message(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return str(exc)


def _yaml_message(exc: yaml.YAMLError) -> str:
    """One line: context, problem and position of a YAML error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [part for part in (exc.context, exc.problem) if part]
        message = ": ".join(parts) or "invalid YAML"
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            message += f" at line {mark.line + 1}, column {mark.column + 1}"
        return " ".join(message.split())
    return " ".join(str(exc).split())


def _expand(values: list[JsonValue]) -> list[JsonValue]:
    """Flatten arrays and `{"items": [...]}` lists into their documents."""
    expanded: list[JsonValue] = []
    for value in values:
        if isinstance(value, list):
            expanded.extend(value)
        elif _is_item_list(value):
            assert isinstance(value, dict)
            items = value["items"]
            assert isinstance(items, list)
            expanded.extend(items)
        else:
            expanded.append(value)
    return expanded


def _is_item_list(value: JsonValue) -> bool:
    # `get -o json` prints `{"items": [...]}`; a document has `spec`/`metadata` instead. A
    # Kubernetes-style `kind: List` wrapper is accepted as well.
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return False
    return not ({"spec", "metadata"} & value.keys()) and value.get("kind") in (None, "List")


# --- YAML ------------------------------------------------------------------------------------

_CORE_PREFIX = "tag:yaml.org,2002:"
_JSON_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class _JsonResolver(Resolver):
    """The YAML 1.1 resolver without timestamps: `2026-03-01T12:00:00Z` stays a string."""


_JsonResolver.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


class _JsonConstructor(SafeConstructor):
    """SafeConstructor restricted to JSON types, with mapping keys kept as their text."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        if node.tag not in _JSON_TAGS:
            raise ConstructorError(
                None, None, f'YAML tag "{node.tag}" is not allowed', node.start_mark
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    None, None, "mapping keys must be scalars", key_node.start_mark
                )
            if key_node.tag not in _JSON_TAGS:
                raise ConstructorError(
                    None, None, f'YAML tag "{key_node.tag}" is not allowed', key_node.start_mark
                )
            # Keys keep their text: `on:` is the key "on", `1:` the key "1" (JSON keys are text).
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise ConstructorError(
                None, None, "infinite and NaN numbers are not allowed", node.start_mark
            )
        return value


# The stubs bind constructors to PyYAML's own loader classes; ours is a SafeConstructor too.
_JsonConstructor.add_constructor(  # type: ignore[type-var]
    "tag:yaml.org,2002:float", _JsonConstructor.construct_yaml_float
)


class _PythonEvents(Reader, Scanner, Parser):
    """PyYAML's pure-Python event parser, for installations built without libyaml."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)


try:
    # libyaml's parser is several times faster; only its events are used (composing is ours).
    from yaml._yaml import CParser as _Events
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _Events = _PythonEvents  # type: ignore[assignment,misc]


class _Loader(Composer, _Events, _JsonConstructor, _JsonResolver):
    """libyaml's event parser with a Python composer that refuses aliases and deep nesting."""

    def __init__(self, text: str) -> None:
        _Events.__init__(self, text)
        Composer.__init__(self)
        _JsonConstructor.__init__(self)
        _JsonResolver.__init__(self)
        self.depth = 0
        self.number = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            raise _DocumentProblem(self.number, "YAML aliases are not allowed")
        event = self.peek_event()
        if event is None:
            return super().compose_node(parent, index)
        if getattr(event, "anchor", None) is not None:
            raise _DocumentProblem(self.number, "YAML aliases are not allowed")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _JSON_TAGS:
            mark = event.start_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise _DocumentProblem(
                self.number, f'YAML tag "{_short_tag(tag)}" is not allowed{where}'
            )
        nested = isinstance(event, MappingStartEvent | SequenceStartEvent)
        if nested:
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise _DocumentProblem(self.number, f"nesting deeper than {MAX_NESTING} levels")
        try:
            node = super().compose_node(parent, index)
        finally:
            if nested:
                self.depth -= 1
        return node


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE_PREFIX) if tag.startswith(_CORE_PREFIX) else tag


def _parse_yaml(text: str) -> list[JsonValue]:
    loader = _Loader(text)
    values: list[JsonValue] = []
    counted = 0
    try:
        while loader.check_node():
            # The number the next non-empty document will get, for messages raised while composing.
            loader.number = counted + 1
            node = loader.get_node()
            value: JsonValue = loader.construct_document(node) if node is not None else None
            values.append(value)
            if value is not None:
                counted += _count(value)
    finally:
        loader.dispose()
    return values


def _count(value: JsonValue) -> int:
    """How many numbered documents a parsed YAML document turns into."""
    return sum(1 for item in _expand([value]) if item is not None)
