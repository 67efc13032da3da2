"""Reports of what-if runs: summaries with confidence intervals, a terminal table, JSON, HTML."""

from .html import render_html
from .summary import mean_ci, report_json, summarise
from .terminal import render_table

__all__ = ["render_html", "mean_ci", "report_json", "summarise", "render_table"]
