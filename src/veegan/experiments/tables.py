"""What the experiments' tables share: mean and std over seeds, CSV, and the wall-time note."""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np

from ..evaluation.modes import under_rule


def mean_std(values: Sequence[float | None]) -> tuple[float, float | None] | None:
    """(mean, sample std with ddof 1) over the defined values, or None without any. One value
    has no std: it is None, and so is a record's ``*_std`` field (empty in CSV, null in JSON)."""
    vals = np.array([v for v in values if v is not None], dtype=float)
    if len(vals) == 0:
        return None
    return float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else None


def _same_measurement(a: Any, b: Any) -> bool:
    """Equal rows, floats equal to within rounding: the same draw scored by two runs can differ
    in the last bit of a float (summed in another order), and that is not a second draw."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same_measurement(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_same_measurement, a, b))
    if isinstance(a, float) or isinstance(b, float):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        return numbers and ((math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))
    return a == b


def _distinct(items: Iterable[Any], row: Callable[[Any], Any] = lambda item: item) -> list[Any]:
    """``items`` less those whose ``row`` is the same measurement as an earlier one's."""
    kept: list[Any] = []
    for item in items:
        if not any(_same_measurement(row(item), row(other)) for other in kept):
            kept.append(item)
    return kept


def real_rows(finals: Iterable[Mapping[str, Any]], rule: str = "calibrated") -> list[Mapping[str, Any]]:
    """The runs' real-data rows under the high-quality ``rule``, each distinct real draw once:
    runs of several methods with the same seed score the same held-out real samples (their
    ``real`` sections are equal), and counting that draw once per method would inflate the real
    row's runs and shrink its std. Draws are compared as stored, before the rule's view (under the
    paper's rule on hd1200 every draw scores 0, so the views of different draws are equal)."""
    draws = _distinct((final for final in finals if "real" in final), row=lambda final: final["real"])
    return [under_rule(final, rule)["real"] for final in draws]


def distinct_rows(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """``rows`` with repeats dropped: a row every run carries unchanged (a table's Gaussian-mixture
    baseline, fitted with one seed) is one measurement, not one per run."""
    return _distinct(rows)


def format_stats(stats: tuple[float, float | None] | None, digits: int = 2, missing: str = "n/a") -> str:
    """'mean ± std' of :func:`mean_std`'s pair; the mean alone where there is no std (one value);
    ``missing`` for None."""
    if stats is None:
        return missing
    mean, std = stats
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_mean_std(values: Sequence[float | None], digits: int = 2) -> str:
    """The defined ``values`` as 'mean ± std' (:func:`format_stats`)."""
    return format_stats(mean_std(values), digits)


def format_row_stats(row: Mapping[str, Any], key: str, digits: int = 2, missing: str = "n/a") -> str:
    """A record's ``<key>_mean`` and ``<key>_std`` (:func:`metric_rows`) as :func:`format_stats` writes them."""
    mean = row.get(f"{key}_mean")
    return format_stats(None if mean is None else (mean, row.get(f"{key}_std")), digits, missing)


def wall_time_note(wall: float, finals: dict) -> str:
    """The table's last line: this invocation's wall time, and the runs' own wall times summed
    (worker-seconds), which a re-run that reuses finished runs still reports truthfully."""
    worker_seconds = sum(final.get("wall_time_s") or 0 for final in finals.values())
    return (f"Total wall time of this invocation: {wall:.0f} s (runs finished earlier are reused); "
            f"the {len(finals)} runs took {worker_seconds:,.0f} worker-seconds in all.\n")


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Records as CSV, one column per key seen in any record."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


METRICS = ("modes", "high_quality_pct", "reverse_kl")


def metric_rows(
    finals: Mapping[Hashable, Mapping[str, Any]], group: Callable[[Any], tuple], real_group: Callable[[Any], tuple],
) -> list[dict[str, Any]]:
    """One record per group of runs (``group(key)`` = (method, dataset, ...)) and per real-data
    group (``real_group(key)``, over :func:`real_rows`): the number of runs, ``max_modes``, and
    the mean and std of each metric (:func:`mean_std`: the std None for one run). The first two
    parts of a group name the record's ``method`` and ``dataset``, a third its ``setting``."""
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    real: dict[tuple, list[Mapping[str, Any]]] = {}
    for key, final in finals.items():
        groups.setdefault(group(key), []).append(final)
        real.setdefault(real_group(key), []).append(final)
    groups.update({name: real_rows(runs) for name, runs in real.items()})
    rows = []
    for name, seeds in groups.items():
        row: dict[str, Any] = dict(zip(("method", "dataset", "setting"), name))
        row.update(runs=len(seeds), max_modes=seeds[0]["max_modes"])
        for metric in METRICS:
            stats = mean_std([r.get(metric) for r in seeds])
            row[f"{metric}_mean"], row[f"{metric}_std"] = stats if stats else (None, None)
        rows.append(row)
    return rows
