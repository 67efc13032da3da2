"""A self-contained HTML report: tables and inline SVG plots, no scripts, no network.

Plots: memory per pod over time (percent of limit) with OOM kills and healing actions marked,
for the first seed of each scenario × arm; MTTR distributions per arm (a strip of every
incident plus the median); executed actions per hour.
"""

from __future__ import annotations

import html
from typing import Any, Sequence

from .terminal import format_ci

__all__ = ["render_html", "line_plot_svg", "strip_plot_svg", "bar_plot_svg"]

_W, _H, _PAD = 640, 220, 40
_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _axes(x_max: float, y_max: float, x_label: str, y_label: str) -> list[str]:
    parts = [f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - 10}" y2="{_H - _PAD}" stroke="#333"/>',
             f'<line x1="{_PAD}" y1="10" x2="{_PAD}" y2="{_H - _PAD}" stroke="#333"/>',
             f'<text x="{_W / 2}" y="{_H - 8}" font-size="11" text-anchor="middle">{_esc(x_label)}</text>',
             f'<text x="12" y="{_H / 2}" font-size="11" transform="rotate(-90 12 {_H / 2})" '
             f'text-anchor="middle">{_esc(y_label)}</text>']
    for k in range(5):
        v = y_max * k / 4
        y = _H - _PAD - (_H - _PAD - 10) * k / 4
        parts.append(f'<text x="{_PAD - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{v:.0f}</text>')
        xv = x_max * k / 4
        x = _PAD + (_W - 10 - _PAD) * k / 4
        parts.append(f'<text x="{x:.1f}" y="{_H - _PAD + 12}" font-size="9" text-anchor="middle">{xv:.0f}</text>')
    return parts


def line_plot_svg(series: dict[str, list[tuple[float, float]]], marks: list[tuple[float, str, str]], *,
                  x_max: float, y_max: float = 100.0, x_label: str = "minutes", y_label: str = "% of limit") -> str:
    """Lines (x in seconds, shown in minutes) and vertical marks (x seconds, colour, title)."""
    def sx(t: float) -> float:
        return _PAD + (_W - 10 - _PAD) * (t / x_max if x_max else 0)

    def sy(v: float) -> float:
        return _H - _PAD - (_H - _PAD - 10) * min(v, y_max) / y_max

    parts = _axes(x_max / 60.0, y_max, x_label, y_label)
    for t, color, title in marks:
        parts.append(f'<line x1="{sx(t):.1f}" y1="10" x2="{sx(t):.1f}" y2="{_H - _PAD}" stroke="{color}" '
                     f'stroke-dasharray="3,2" opacity="0.7"><title>{_esc(title)}</title></line>')
    for i, (name, pts) in enumerate(sorted(series.items())):
        if not pts:
            continue
        d = " ".join(f"{sx(t):.1f},{sy(v):.1f}" for t, v in pts)
        color = _COLORS[i % len(_COLORS)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.2" points="{d}">'
                     f'<title>{_esc(name)}</title></polyline>')
        parts.append(f'<text x="{_W - 12}" y="{14 + 11 * i}" font-size="9" fill="{color}" text-anchor="end">'
                     f'{_esc(name)}</text>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}">{"".join(parts)}</svg>'


def strip_plot_svg(groups: dict[str, list[float]], *, label: str = "MTTR (s)") -> str:
    """One horizontal strip per group: every value as a dot, the median as a bar."""
    values = [v for vs in groups.values() for v in vs]
    x_max = max(values) * 1.05 if values else 1.0
    h = 30 + 28 * max(1, len(groups))
    parts = []
    for i, (name, vs) in enumerate(groups.items()):
        y = 20 + 28 * i
        parts.append(f'<text x="4" y="{y + 4}" font-size="10">{_esc(name)}</text>')
        for k, v in enumerate(sorted(vs)):
            x = 180 + (_W - 200) * v / x_max
            parts.append(f'<circle cx="{x:.1f}" cy="{y + ((k % 5) - 2) * 2}" r="2.2" fill="{_COLORS[i % 8]}" '
                         f'opacity="0.6"><title>{v:.0f}</title></circle>')
        if vs:
            med = sorted(vs)[len(vs) // 2]
            x = 180 + (_W - 200) * med / x_max
            parts.append(f'<line x1="{x:.1f}" y1="{y - 8}" x2="{x:.1f}" y2="{y + 8}" stroke="#000" stroke-width="2">'
                         f'<title>median {med:.0f}</title></line>')
    parts.append(f'<text x="{_W / 2}" y="{h - 4}" font-size="10" text-anchor="middle">{_esc(label)}, 0 … '
                 f'{x_max:.0f}</text>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{h}">{"".join(parts)}</svg>'


def bar_plot_svg(bars: dict[str, float], *, label: str = "actions per hour") -> str:
    top = max(bars.values(), default=0.0) or 1.0
    h = 30 + 22 * max(1, len(bars))
    parts = []
    for i, (name, v) in enumerate(bars.items()):
        y = 12 + 22 * i
        w = (_W - 240) * v / top
        parts.append(f'<text x="4" y="{y + 11}" font-size="10">{_esc(name)}</text>'
                     f'<rect x="200" y="{y}" width="{w:.1f}" height="14" fill="{_COLORS[i % 8]}"/>'
                     f'<text x="{204 + w:.1f}" y="{y + 11}" font-size="10">{v:.2f}</text>')
    parts.append(f'<text x="{_W / 2}" y="{h - 4}" font-size="10" text-anchor="middle">{_esc(label)}</text>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{h}">{"".join(parts)}</svg>'


def _summary_table(summary: Sequence[dict[str, Any]]) -> str:
    head = ["scenario", "arm", "seeds", "incidents", "time to detect (s)", "MTTR (s)", "OOM kills", "availability",
            "actions", "actions by type", "blocked (why)", "flapping", "replica-hours"]
    rows = []
    for e in summary:
        cells = [e["scenario"], e["arm"], len(e["seeds"]), format_ci(e["incidents"]),
                 format_ci(e["time_to_detect_mean"], digits=0), format_ci(e["mttr_mean"], digits=0),
                 format_ci(e["oom_kills"]), format_ci(e["availability"], unit="%", scale=100, digits=2),
                 format_ci(e["actions"]), ", ".join(f"{k} {v:.3g}" for k, v in e["actions_by_type"].items()) or "—",
                 ", ".join(f"{k} {v:.3g}" for k, v in e["blocked_by_reason"].items()) or "—",
                 format_ci(e["flapping"]), format_ci(e["replica_hours"])]
        rows.append("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in cells) + "</tr>")
    return ("<table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>")


def render_html(report: dict[str, Any], *, title: str = "KubeSkippy what-if report") -> str:
    summary = report["summary"]
    runs = report["runs"]
    sections = [f"<h1>{_esc(title)}</h1>", f"<p><code>{_esc(report.get('command', ''))}</code></p>",
                "<h2>Summary</h2>", _summary_table(summary)]
    scenarios = list(dict.fromkeys(e["scenario"] for e in summary))
    for scenario in scenarios:
        sections.append(f"<h2>Scenario {_esc(scenario)}</h2>")
        entries = [e for e in summary if e["scenario"] == scenario]
        sections.append("<h3>MTTR distribution</h3>")
        sections.append(strip_plot_svg({e["arm"]: e["mttr_values"] for e in entries}))
        sections.append("<h3>Actions per hour</h3>")
        sections.append(bar_plot_svg({e["arm"]: e["actions_per_hour"]["mean"] or 0.0 for e in entries}))
        for e in entries:
            first = next((r for r in runs if r["scenario"] == scenario and r["arm"] == e["arm"]), None)
            if first is None:
                continue
            marks = [(t, "#d62728", f"OOM kill {name}") for name, t in first["plots"]["oom_times"]]
            marks += [(a["t"], "#2ca02c" if a["status"] == "executed" else "#999999",
                       f"{a['status']} {a['type']} {a['target']} {a['reason']}") for a in first["actions"]]
            sections.append(f"<h3>Memory per pod — {_esc(e['arm'])}, seed {first['seed']} "
                            "(red: OOM kills, green: actions, grey: blocked or other outcomes)</h3>")
            sections.append(line_plot_svg(first["plots"]["memory_percent"], marks, x_max=first["duration"]))
    style = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;font-size:12px}"
             "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}svg{border:1px solid #eee;margin:4px 0}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_esc(title)}</title><style>{style}</style>"
            f"</head><body>{''.join(sections)}</body></html>")
