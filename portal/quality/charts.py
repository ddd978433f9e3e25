"""Trend charts drawn on the server as SVG: no script, readable on a phone
(the drawing scales to its box), printable, and an <img> that never holds
the page back while it loads."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 30


def line_chart(title: str, labels: list[str], values: list[float | None]) -> str:
    """Fractions from 0 to 1 over ``labels``; a missing value breaks the line
    (a month with nothing to count is not a zero)."""
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: float) -> float:
        return TOP + inner_h * (1 - max(0.0, min(1.0, value)))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
        ' font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
    ]
    for share in (0.0, 0.5, 1.0):
        level = y(share)
        parts.append(f'<line x1="{LEFT}" y1="{level:.1f}" x2="{WIDTH - RIGHT}" y2="{level:.1f}" stroke="#d0d7de" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{level + 4:.1f}" text-anchor="end" fill="#57606a">{int(share * 100)}%</text>')
    for index, label in enumerate(labels):
        parts.append(f'<text x="{x(index):.1f}" y="{HEIGHT - 10}" text-anchor="middle" fill="#57606a">{escape(label[-2:])}</text>')
    runs: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        runs[-1].append((x(index), y(value)))
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(f'<polyline points="{points}" fill="none" stroke="#0b5cad" stroke-width="2.5"/>')
        for px, py in run:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#0b5cad"/>')
    for index, value in enumerate(values):
        if value is not None and index == len(values) - 1:
            parts.append(f'<text x="{x(index) - 4:.1f}" y="{y(value) - 8:.1f}" text-anchor="end" fill="#0b5cad">{value * 100:.0f}%</text>')
    parts.append("</svg>")
    return "".join(parts)
