"""The message catalogue: every text a reader sees, in Dutch (``nl``) and English (``en``).

Texts live in ``mentorwijs/messages/<language>.yaml``, never in code. :class:`Messages` looks
them up by dotted key (``m.t("sections.flow.title")``), fills ``{placeholders}`` with values
that the caller has already formatted for the language, and turns codes from the tables into
labels (``m.label("outcome", "employed_1h")``). A code without a label is shown readably (its
underscores as spaces) rather than failing, so a new modifier or covariate in a table never
stops the report; a missing *text* key is a bug and raises :class:`KeyError`.

Number formatting bound to the language is available as methods (``m.num``, ``m.count``,
``m.pct``, ``m.ci``, ``m.p``), so templates and figures format alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

from mentorwijs import formatting as fmt

_WAVE_STEP = re.compile(r"^completed_(T\d+)$")
#: Where :meth:`Messages.label` looks next for a code its own list lacks: a model term or a
#: baseline variable is often a matching covariate, a modifier or a construct.
LABEL_FALLBACKS: Mapping[str, tuple[str, ...]] = {
    "term": ("covariate", "variable", "modifier"),
    "covariate": ("variable",),
    "variable": ("covariate", "construct"),
    "modifier": ("covariate", "variable"),
}


@lru_cache(maxsize=None)
def _catalogue(language: str) -> Mapping[str, Any]:
    fmt.check_language(language)
    text = resources.files("mentorwijs").joinpath("messages", f"{language}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _compile(catalogue: Mapping[str, Any]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(entry["pattern"]), str(entry["text"])) for entry in catalogue.get("diagnostics", ()))


@lru_cache(maxsize=None)
def _diagnostics(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    return _compile(_catalogue(language))


class Messages:
    """Texts and number formats of one language."""

    def __init__(self, language: str, catalogue: Mapping[str, Any] | None = None):
        self.language = fmt.check_language(language)
        self._data = catalogue if catalogue is not None else _catalogue(language)

    def tree(self, key: str) -> Any:
        """The raw entry at a dotted key (a text, list or mapping); KeyError when absent."""
        node: Any = self._data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise KeyError(f"message {key!r} is not in the {self.language} catalogue")
            node = node[part]
        return node

    def has(self, key: str) -> bool:
        try:
            self.tree(key)
        except KeyError:
            return False
        return True

    def t(self, key: str, **values: Any) -> str:
        """The text at ``key`` with ``{placeholders}`` filled from ``values``."""
        text = self.tree(key)
        if not isinstance(text, str):
            raise KeyError(f"message {key!r} is not a text")
        return text.format(**values) if values else text

    def label(self, kind: str, code: Any) -> str:
        """The label of a code from a table (``kind`` names the list: outcome, construct, ...).

        A code missing from its own list is looked up in the lists :data:`LABEL_FALLBACKS` names
        (a model term such as ``months_worked`` is labelled as the covariate it is).
        ``name=level`` codes (a level of a categorical covariate) are labelled part by part, the
        level from ``category_<name>`` and then ``category``, and so are the covariate interactions
        ``a:b`` of the balance table; ``completed_T2`` flow steps through
        the wave pattern; unknown codes read as text.
        """
        code = "" if code is None else str(code)
        all_labels = self._data.get("labels", {})
        for name in (kind, *LABEL_FALLBACKS.get(kind, ())):
            labels = all_labels.get(name, {})
            if isinstance(labels, Mapping) and code in labels:
                return str(labels[code])
        labels = all_labels.get(kind, {})
        if kind == "flow_step":
            match = _WAVE_STEP.match(code)
            if match:
                return self.t("labels.flow_step_wave", wave=match.group(1))
            if code.startswith("excluded_") and code[len("excluded_"):] in labels:
                return str(labels[code[len("excluded_"):]])
        if ":" in code and kind == "covariate":  # an interaction of balance terms, ``a:b``
            return " × ".join(self.label(kind, part) for part in code.split(":"))
        if "=" in code:
            name, _, level = code.partition("=")
            return f"{self.label(kind, name)}: {self.category(name, level)}"
        return code.replace("_", " ")

    def category(self, variable: Any, level: Any) -> str:
        """The words of a level of a variable: ``category_<variable>``, else ``category``, else the code."""
        level = "" if level is None else str(level)
        specific = self._data.get("labels", {}).get(f"category_{variable}", {})
        if isinstance(specific, Mapping) and level in specific:
            return str(specific[level])
        return self.label("category", level)

    def diagnostic(self, text: Any) -> str:
        """An exclusion reason, data check or model warning from a table (written in English by
        the software) in this language: the first ``diagnostics`` pattern that matches the whole
        text gives its words; a text no pattern knows is returned as it is."""
        text = "" if text is None else str(text).strip()
        for pattern, template in (_diagnostics(self.language) if self._data is _catalogue(self.language)
                                  else _compile(self._data)):
            match = pattern.fullmatch(text)
            if match:
                return template.format(**match.groupdict())
        return text

    # number formats in this language ------------------------------------------------------
    def num(self, value: Any, decimals: int = 2, *, sign: bool = False) -> str:
        return fmt.format_number(value, decimals, self.language, sign=sign)

    def count(self, value: Any) -> str:
        return fmt.format_count(value, self.language)

    def pct(self, share: Any, decimals: int = 0) -> str:
        return fmt.format_percent(share, decimals, self.language)

    def points(self, difference: Any, decimals: int = 0, *, sign: bool = False) -> str:
        return fmt.format_points(difference, decimals, self.language, sign=sign)

    def ci(self, low: Any, high: Any, decimals: int = 2, *, scale: float = 1.0) -> str:
        return fmt.format_ci(low, high, decimals, self.language, scale=scale)

    def p(self, value: Any) -> str:
        return fmt.format_p(value, self.language)


def load_messages(language: str) -> Messages:
    """The catalogue of ``language`` (``nl`` or ``en``)."""
    return Messages(language)


def catalogue_keys(language: str) -> set[str]:
    """Every dotted key of a catalogue (for the test that both languages say the same things)."""

    def walk(node: Any, prefix: str) -> set[str]:
        if isinstance(node, Mapping):
            keys: set[str] = set()
            for key, value in node.items():
                keys |= walk(value, f"{prefix}.{key}" if prefix else str(key))
            return keys
        return {prefix}

    return walk(_catalogue(language), "")
