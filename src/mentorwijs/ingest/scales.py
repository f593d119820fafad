"""Scale scores and their reliability.

A scale score is the mean of the answered items of the scale after reverse coding (a
reverse-worded item on range [low, high] is scored low + high - value), and missing when fewer
than the scale's ``min_items`` items are answered; so a score stays on the items' own range (1
to 5 for five-point items) whatever the number of answered items. Cronbach's alpha is computed
on the reverse-coded items of the respondents who answered every item of the scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mentorwijs.codebook import Codebook, Item
from mentorwijs.errors import InputError


#: Alpha is rounded to this many decimals, so that rounding noise of the sums (1e-16) never
#: reaches an output.
ALPHA_DECIMALS = 10


def reverse_coded(values: pd.Series, item: Item, codebook: Codebook | None = None) -> pd.Series:
    """The item's values, reversed (low + high - value) when the item is reverse-worded."""
    if not item.reverse:
        return values.astype("float64")
    if item.range is None:
        raise InputError(f"item {item.name!r} is reverse-worded but has no 'range'",
                         file=codebook.source if codebook else None,
                         hint="give the item its range [low, high] in the codebook")
    low, high = item.range
    return float(low) + float(high) - values.astype("float64")


def scale_items_frame(table: pd.DataFrame, codebook: Codebook, scale: str, wave: str) -> pd.DataFrame:
    """The scale's items in ``wave`` that the table holds, reverse-coded, one column per item."""
    items = [i for i in codebook.scale_items(scale, wave) if i.name in table.columns]
    return pd.DataFrame({i.name: reverse_coded(table[i.name], i, codebook) for i in items}, index=table.index)


def scale_scores(table: pd.DataFrame, codebook: Codebook, wave: str) -> pd.DataFrame:
    """One column per scale: the mean of the answered reverse-coded items, or NaN when fewer
    than ``min_items`` are answered."""
    scores = {}
    for name, scale in codebook.scales.items():
        items = scale_items_frame(table, codebook, name, wave)
        if items.shape[1] == 0:
            continue
        answered = items.notna().sum(axis=1)
        mean = items.mean(axis=1, skipna=True)
        scores[name] = mean.where(answered >= scale.min_items).astype("float64")
    return pd.DataFrame(scores, index=table.index)


def cronbach_alpha(items: pd.DataFrame) -> tuple[float, int]:
    """Cronbach's alpha of the items (columns) over complete rows, and the number of those rows.

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the sum), variances with
    n - 1 in the denominator. NaN when fewer than two items or two complete rows, or when the
    sum has no variance.
    """
    complete = items.dropna(axis=0, how="any").astype("float64")
    k, n = complete.shape[1], complete.shape[0]
    if k < 2 or n < 2:
        return float("nan"), n
    item_variances = complete.var(axis=0, ddof=1).sum()
    total_variance = complete.sum(axis=1).var(ddof=1)
    if not np.isfinite(total_variance) or total_variance == 0:
        return float("nan"), n
    alpha = k / (k - 1) * (1.0 - item_variances / total_variance)
    return round(float(alpha), ALPHA_DECIMALS) + 0.0, n


def reliability(table: pd.DataFrame, codebook: Codebook, waves: list[str] | None = None) -> pd.DataFrame:
    """Cronbach's alpha per scale per wave: ``scale, wave, alpha, n, n_items``."""
    rows = []
    present = sorted(table["wave"].dropna().unique(), key=lambda w: int(str(w)[1:])) if "wave" in table else []
    for wave in waves or present:
        part = table[table["wave"] == wave]
        for name in codebook.scales:
            items = scale_items_frame(part, codebook, name, wave)
            if items.shape[1] == 0:
                continue
            alpha, n = cronbach_alpha(items)
            rows.append({"scale": name, "wave": wave, "alpha": alpha, "n": n, "n_items": items.shape[1]})
    frame = pd.DataFrame(rows, columns=["scale", "wave", "alpha", "n", "n_items"])
    return frame.astype({"n": "int64", "n_items": "int64"})
