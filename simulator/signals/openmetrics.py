"""Export the simulated series as OpenMetrics text with timestamps.

What for: ``promtool tsdb create-blocks-from openmetrics FILE DIR`` turns the export into TSDB
blocks, so a real Prometheus can evaluate a rule over exactly the data the simulator saw — the
check that the simulator's own rule evaluation agrees with Prometheus (tests/simulator).
Samples are grouped by family, then by series, in time order, as the importer requires.
"""

from __future__ import annotations

from typing import Iterable, TextIO

import numpy as np

from .store import FAMILIES, SeriesStore

__all__ = ["write_openmetrics"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def write_openmetrics(store: SeriesStore, out: TextIO, *, epoch: float,
                      families: Iterable[str] | None = None) -> int:
    """Write every retained sample of ``families`` (default: all); returns the sample count."""
    order = store.slots_between(-np.inf, np.inf)
    times = store.times[order]
    serial_m = store.serial[order]
    cols = {name: col[order] for name, col in store.cols.items()}
    written = 0
    for name in families or FAMILIES:
        family = FAMILIES[name]
        counter = family.type == "counter"
        base = name[:-6] if counter and name.endswith("_total") else name  # OpenMetrics: counter families drop _total
        sample_name = f"{base}_total" if counter else name
        out.write(f"# HELP {base} {family.help}\n# TYPE {base} {'counter' if counter else 'gauge'}\n")
        for variant in family.variants:
            values_m = variant.value(cols)
            present = ~np.isnan(values_m) & (serial_m > 0)
            for serial in np.unique(serial_m[present]):
                labels = dict(store.labels(int(serial)))
                if not family.per_container:
                    labels.pop("container", None)
                labels.update(variant.labels)
                text = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
                mask = present & (serial_m == serial)
                for slot, row in zip(*np.nonzero(mask)):
                    out.write(f"{sample_name}{{{text}}} {float(values_m[slot, row])!r} {epoch + float(times[slot]):.3f}\n")
                    written += 1
    out.write("# EOF\n")
    return written
