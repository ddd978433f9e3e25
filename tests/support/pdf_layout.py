"""Reading a rendered PDF back to check its layout, with poppler's
pdftotext: each page's text in drawing order (a cell's lines one after the
other, so a long text wrapped over several lines reads back whole), and
every word's box, to tell that no text left its page's text area or ran
over another."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

MM = 72 / 25.4
_NUMBER = r"(-?[0-9.]+)"
_PAGE = re.compile(rf'<page width="{_NUMBER}" height="{_NUMBER}">(.*?)</page>', re.DOTALL)
_WORD = re.compile(rf'<word xMin="{_NUMBER}" yMin="{_NUMBER}" xMax="{_NUMBER}" yMax="{_NUMBER}">(.*?)</word>')
# Rounding in the renderer and the reader: far below a character's width.
TOLERANCE = 0.5


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: list[Word]
    # The page's text in drawing order, without any whitespace.
    flat: str


def read_pages(pdf: Path) -> list[Page]:
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = []
    for number, (width, height, content) in enumerate(_PAGE.findall(boxes), start=1):
        words = [Word(html.unescape(text), float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, text in _WORD.findall(content)]
        raw = subprocess.run(
            ["pdftotext", "-raw", "-f", str(number), "-l", str(number), str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        pages.append(Page(number, float(width), float(height), words, flatten(raw)))
    return pages


def flatten(text: str) -> str:
    return re.sub(r"\s+", "", text)


def outside(page: Page, left_mm: float, right_mm: float) -> list[Word]:
    """The words that reach into the page's side margins or beyond its edge."""
    low, high = left_mm * MM - TOLERANCE, page.width - right_mm * MM + TOLERANCE
    return [word for word in page.words if word.x_min < low or word.x_max > high]


def overprinted(page: Page) -> list[tuple[Word, Word]]:
    """Pairs of words whose boxes overlap: a text that ran over its cell's
    neighbour."""
    pairs = []
    words = sorted(page.words, key=lambda word: word.y_min)
    for index, word in enumerate(words):
        for other in words[index + 1 :]:
            if other.y_min >= word.y_max - TOLERANCE:
                break
            if min(word.x_max, other.x_max) - max(word.x_min, other.x_min) > TOLERANCE:
                pairs.append((word, other))
    return pairs


def page_with(pages: list[Page], *texts: str) -> Page | None:
    """The page holding every one of ``texts`` whole (whitespace aside)."""
    wanted = [flatten(text) for text in texts]
    return next((page for page in pages if all(text in page.flat for text in wanted)), None)
