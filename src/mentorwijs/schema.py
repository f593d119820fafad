"""A JSON-schema validator for ``config.yaml`` that needs nothing outside the standard library.

The CBS environment (``requirements-register.lock``) has no ``jsonschema``, yet the configuration
must be checked there as well. :func:`iter_errors` supports exactly the keywords
``workflow/schemas/config.schema.json`` uses (:data:`KEYWORDS`, :data:`ANNOTATIONS`) with the
semantics of JSON Schema draft 2020-12, and refuses a schema holding any other keyword
(:class:`UnknownKeyword`) rather than ignoring it. Its errors are those of ``jsonschema`` 4.x's
``Draft202012Validator.iter_errors``: the same messages, the same instance paths and the same
order (keywords in the order the schema lists them, ``$ref`` resolved in place), so that
:func:`mentorwijs.config.validate_config` reports the same first error inside and outside CBS
(``tests/test_schema.py`` compares both on a corpus of broken configurations).

Keywords (2020-12 meaning): ``$ref`` (local JSON pointers ``#/...``), ``type``, ``properties``,
``additionalProperties``, ``required``, ``enum``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
``exclusiveMaximum``, ``minLength``, ``pattern`` (Python ``re.search``), ``items`` (no
``prefixItems``), ``minItems``, ``maxItems``, ``uniqueItems``, ``minProperties``,
``propertyNames``, ``oneOf``. ``format`` is an annotation (as in jsonschema without a format
checker).
"""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Iterator

#: Keywords that never produce an error (annotations and where subschemas are kept).
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples",
                         "definitions", "$defs", "format"})


class UnknownKeyword(ValueError):
    """The schema uses a keyword this validator does not implement."""


@dataclass(frozen=True)
class SchemaError:
    """One violation: where in the instance (keys and list indices) and jsonschema's message."""

    path: tuple[str | int, ...]
    message: str


# ---------------------------------------------------------------------------------------------
# JSON types and equality (jsonschema's type checker of draft 2020-12 and its ``equal``)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "null": lambda v: v is None,
    "number": _is_number,
    "object": lambda v: isinstance(v, dict),
    "string": lambda v: isinstance(v, str),
}


def _is_type(value: Any, name: str) -> bool:
    if name not in _TYPES:
        raise UnknownKeyword(f"unknown type {name!r}")
    return _TYPES[name](value)


def _unbool(value: Any, true: object = object(), false: object = object()) -> Any:
    if value is True:
        return true
    if value is False:
        return false
    return value


def _equal(one: Any, two: Any) -> bool:
    """Equality in which ``True`` is not 1 and ``False`` is not 0, also inside lists and mappings."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(i, j) for i, j in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(key in two and _equal(value, two[key]) for key, value in one.items())
    return _unbool(one) == _unbool(two)


def _unique(items: list[Any]) -> bool:
    try:
        ordered = sorted(_unbool(i) for i in items)
        return not any(_equal(i, j) for i, j in zip(ordered, itertools.islice(ordered, 1, None)))
    except (NotImplementedError, TypeError):
        seen: list[Any] = []
        for item in items:
            item = _unbool(item)
            if any(_equal(i, item) for i in seen):
                return False
            seen.append(item)
        return True


# ---------------------------------------------------------------------------------------------
# keywords: each yields (relative path, message), in jsonschema's order

Errors = Iterator[tuple[tuple[str | int, ...], str]]


class _Validator:
    def __init__(self, root: Mapping[str, Any]):
        self.root = root

    def errors(self, instance: Any, schema: Any) -> Errors:
        if schema is True:
            return
        if schema is False:
            yield (), f"False schema does not allow {instance!r}"
            return
        for keyword, value in schema.items():
            if keyword in ANNOTATIONS:
                continue
            check = _KEYWORDS.get(keyword)
            if check is None:
                raise UnknownKeyword(f"the schema keyword {keyword!r} is not supported by mentorwijs.schema")
            yield from check(self, value, instance, schema)

    def is_valid(self, instance: Any, schema: Any) -> bool:
        return next(iter(self.errors(instance, schema)), None) is None

    def resolve(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise UnknownKeyword(f"only local references (#/...) are supported, not {ref!r}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node


def _descend(validator: _Validator, instance: Any, schema: Any, path: str | int | None = None) -> Errors:
    for where, message in validator.errors(instance, schema):
        yield ((path, *where) if path is not None else where), message


def _ref(v: _Validator, ref: str, instance: Any, schema: Mapping[str, Any]) -> Errors:
    yield from _descend(v, instance, v.resolve(ref))


def _type(v: _Validator, types: Any, instance: Any, schema: Mapping[str, Any]) -> Errors:
    types = [types] if isinstance(types, str) else types
    if not any(_is_type(instance, t) for t in types):
        yield (), f"{instance!r} is not of type {', '.join(repr(t) for t in types)}"


def _properties(v: _Validator, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]) -> Errors:
    if isinstance(instance, dict):
        for name, subschema in properties.items():
            if name in instance:
                yield from _descend(v, instance[name], subschema, name)


def _additional_properties(v: _Validator, extra_schema: Any, instance: Any, schema: Mapping[str, Any]) -> Errors:
    if not isinstance(instance, dict):
        return
    if "patternProperties" in schema:
        raise UnknownKeyword("patternProperties is not supported by mentorwijs.schema")
    known = schema.get("properties", {})
    extras = [name for name in instance if name not in known]
    if isinstance(extra_schema, dict):
        for name in extras:
            yield from _descend(v, instance[name], extra_schema, name)
    elif not extra_schema and extras:
        ordered = sorted(set(extras), key=str)
        verb = "was" if len(ordered) == 1 else "were"
        yield (), f"Additional properties are not allowed ({', '.join(repr(e) for e in ordered)} {verb} unexpected)"


def _required(v: _Validator, required: Sequence[str], instance: Any, schema: Mapping[str, Any]) -> Errors:
    if isinstance(instance, dict):
        for name in required:
            if name not in instance:
                yield (), f"{name!r} is a required property"


def _enum(v: _Validator, enums: Sequence[Any], instance: Any, schema: Mapping[str, Any]) -> Errors:
    if all(not _equal(each, instance) for each in enums):
        yield (), f"{instance!r} is not one of {enums!r}"


def _bound(test: Callable[[Any, Any], bool], text: str) -> Callable[..., Errors]:
    def check(v: _Validator, bound: Any, instance: Any, schema: Mapping[str, Any]) -> Errors:
        if _is_number(instance) and test(instance, bound):
            yield (), f"{instance!r} {text} {bound!r}"
    return check


def _size(kind: str, size: Callable[[Any], int], too_small: bool, text: str, at_limit: str) -> Callable[..., Errors]:
    """``minLength``/``minItems``/``minProperties`` (``too_small``) and ``maxItems``: jsonschema's
    message is ``at_limit`` when the bound is 1 (minimum) or 0 (maximum)."""
    def check(v: _Validator, bound: int, instance: Any, schema: Mapping[str, Any]) -> Errors:
        if not _is_type(instance, kind):
            return
        if (size(instance) < bound) if too_small else (size(instance) > bound):
            special = bound == (1 if too_small else 0)
            yield (), f"{instance!r} {at_limit if special else text}"
    return check


def _pattern(v: _Validator, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Errors:
    if isinstance(instance, str) and not re.search(pattern, instance):
        yield (), f"{instance!r} does not match {pattern!r}"


def _items(v: _Validator, items: Any, instance: Any, schema: Mapping[str, Any]) -> Errors:
    if "prefixItems" in schema or items is False:
        raise UnknownKeyword("prefixItems and items: false are not supported by mentorwijs.schema")
    if isinstance(instance, list):
        for index, item in enumerate(instance):
            yield from _descend(v, item, items, index)


def _unique_items(v: _Validator, unique: bool, instance: Any, schema: Mapping[str, Any]) -> Errors:
    if unique and isinstance(instance, list) and not _unique(instance):
        yield (), f"{instance!r} has non-unique elements"


def _property_names(v: _Validator, names: Any, instance: Any, schema: Mapping[str, Any]) -> Errors:
    if isinstance(instance, dict):
        for name in instance:
            yield from _descend(v, name, names)  # jsonschema adds no path element here


def _one_of(v: _Validator, subschemas: Sequence[Any], instance: Any, schema: Mapping[str, Any]) -> Errors:
    candidates = iter(subschemas)
    first_valid = None
    for subschema in candidates:
        if v.is_valid(instance, subschema):
            first_valid = subschema
            break
    else:
        yield (), f"{instance!r} is not valid under any of the given schemas"
    more_valid = [each for each in candidates if v.is_valid(instance, each)]
    if more_valid:
        more_valid.append(first_valid)
        yield (), f"{instance!r} is valid under each of {', '.join(repr(s) for s in more_valid)}"


_KEYWORDS: dict[str, Callable[..., Errors]] = {
    "$ref": _ref,
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "required": _required,
    "enum": _enum,
    "minimum": _bound(lambda x, b: x < b, "is less than the minimum of"),
    "maximum": _bound(lambda x, b: x > b, "is greater than the maximum of"),
    "exclusiveMinimum": _bound(lambda x, b: x <= b, "is less than or equal to the minimum of"),
    "exclusiveMaximum": _bound(lambda x, b: x >= b, "is greater than or equal to the maximum of"),
    "minLength": _size("string", len, True, "is too short", "should be non-empty"),
    "pattern": _pattern,
    "items": _items,
    "minItems": _size("array", len, True, "is too short", "should be non-empty"),
    "maxItems": _size("array", len, False, "is too long", "is expected to be empty"),
    "uniqueItems": _unique_items,
    "minProperties": _size("object", len, True, "does not have enough properties", "should be non-empty"),
    "propertyNames": _property_names,
    "oneOf": _one_of,
}

#: The keywords that are checked.
KEYWORDS = frozenset(_KEYWORDS)


def check_schema_keywords(schema: Mapping[str, Any]) -> None:
    """Raise :class:`UnknownKeyword` if any schema object inside ``schema`` uses a keyword that is
    neither checked (:data:`KEYWORDS`) nor an annotation (:data:`ANNOTATIONS`)."""
    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return
        for keyword, value in node.items():
            if keyword not in KEYWORDS and keyword not in ANNOTATIONS:
                raise UnknownKeyword(f"{where}: the schema keyword {keyword!r} is not supported by mentorwijs.schema")
            if keyword in ("properties", "definitions", "$defs"):
                for name, sub in value.items():
                    walk(sub, f"{where}/{keyword}/{name}")
            elif keyword in ("items", "additionalProperties", "propertyNames"):
                walk(value, f"{where}/{keyword}")
            elif keyword == "oneOf":
                for i, sub in enumerate(value):
                    walk(sub, f"{where}/{keyword}/{i}")
    walk(schema, "#")


def iter_errors(instance: Any, schema: Mapping[str, Any]) -> Iterator[SchemaError]:
    """Every violation of ``schema`` by ``instance``, in the order jsonschema 4.x's
    ``Draft202012Validator(schema).iter_errors(instance)`` yields them."""
    check_schema_keywords(schema)
    for path, message in _Validator(schema).errors(instance, schema):
        yield SchemaError(path, message)


__all__ = ["ANNOTATIONS", "KEYWORDS", "SchemaError", "UnknownKeyword", "check_schema_keywords", "iter_errors"]
