"""The status chart: a small inline SVG (no external assets, nothing to load)."""

from __future__ import annotations

from markupsafe import Markup, escape

from batchpay.report.model import BUCKETS, Report

COLOURS = {
    "completed": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#8d6e63",
    "pending": "#f9a825",
    "unknown": "#6a1b9a",
    "needs_review": "#d84315",
    "not_sent": "#90a4ae",
}


def status_chart(report: Report, width: int = 560) -> Markup:
    """One horizontal bar per bucket, rows counted across all currencies."""
    counts = {name: sum(s.bucket_rows[name] for s in report.summaries) for name in BUCKETS}
    biggest = max([*counts.values(), 1])
    bar_height, gap, label = 18, 6, 110
    height = len(counts) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="rows by status">'
    ]
    for i, (name, count) in enumerate(counts.items()):
        y = gap + i * (bar_height + gap)
        length = round((width - label - 60) * count / biggest)
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12">{escape(name.replace("_", " "))}</text>'
        )
        parts.append(
            f'<rect x="{label}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="{COLOURS[name]}"/>'
        )
        parts.append(f'<text x="{label + length + 6}" y="{y + 13}" font-size="12">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # built from integers and fixed names only
