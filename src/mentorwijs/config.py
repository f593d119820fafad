"""Reading and validating ``config.yaml``.

The configuration is the single source of truth of a run. :func:`load_config` reads it,
applies overrides (``key.sub=value`` strings, as ``snakemake --config`` does) and validates it
against ``workflow/schemas/config.schema.json``. Library functions never read the config
themselves: callers pass them the plain values they need.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from mentorwijs.errors import ConfigError
from mentorwijs.schema import iter_errors

SCHEMA_RELATIVE = Path("workflow") / "schemas" / "config.schema.json"


def find_schema(config_path: str | Path) -> Path:
    """The schema that belongs to a config file: ``workflow/schemas/`` next to it."""
    root = Path(config_path).resolve().parent
    schema = root / SCHEMA_RELATIVE
    if not schema.is_file():
        raise ConfigError(
            "the configuration schema was not found next to the config file",
            file=config_path,
            hint=f"keep config.yaml at the repository root, beside {SCHEMA_RELATIVE.as_posix()}",
        )
    return schema


def read_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning syntax errors into an :class:`InputError` with the line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError("file not found", file=path, hint="check the path (relative to the repository root)")
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            f"not valid YAML: {exc.problem}",
            file=path,
            row=(mark.line + 1) if mark else None,
            hint="fix the indentation or quoting at that line",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=path, hint="save the file as UTF-8") from None


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides; values are parsed as YAML scalars or lists."""
    result = copy.deepcopy(dict(config))
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value", hint="write e.g. report.language=en")
        dotted, raw = item.split("=", 1)
        keys = dotted.strip().split(".")
        node = result
        for key in keys[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {key!r} is not a section")
        node[keys[-1]] = yaml.safe_load(raw)
    return result


def _path_order(path: Iterable[str | int]) -> list[tuple[int, str | int]]:
    """Sort key of an error's key path: jsonschema's order (``list(error.absolute_path)``), and
    list indices before keys where an integer key meets a text key (which would not compare)."""
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


def validate_config(config: Mapping[str, Any], schema_path: str | Path, *, file: str | Path | None = None) -> None:
    """Validate against the JSON schema; the first error (by key path) names the key path.

    The check is :func:`mentorwijs.schema.iter_errors`, which needs no ``jsonschema`` and gives
    jsonschema's messages: the same in the CBS environment as outside it.
    """
    schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
    errors = sorted(iter_errors(config, schema), key=lambda e: _path_order(e.path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.path) or "(top level)"
        more = f" ({len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(
            f"key {where}: {err.message}{more}",
            file=file,
            hint="see workflow/schemas/config.schema.json for what each key accepts",
        )


def load_config(path: str | Path = "config.yaml", overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Read, override and validate a configuration; returns a plain dict."""
    config = read_yaml(path)
    if not isinstance(config, dict):
        raise ConfigError("the configuration must be a mapping of sections", file=path)
    config = apply_overrides(config, overrides)
    validate_config(config, find_schema(path), file=path)
    return config


def config_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON form of a configuration (keys sorted)."""
    text = json.dumps(config, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()
