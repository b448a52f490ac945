"""How a text table is written: its encoding, separator, decimal mark and thousands
separator, read off the first lines so that a European export (``;`` and decimal
commas), a tab-separated file, a Latin-1 or UTF-16 file reads as the user meant.
What was detected is said (:func:`tsgan.errors.note`), so nothing is assumed silently."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

SAMPLE_BYTES = 1 << 16
SEPARATORS = (",", ";", "\t", "|")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_ENCODINGS = {"cp1252": "Windows-1252 (Latin-1)", "latin-1": "Latin-1", "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
_COMMA_DECIMAL = re.compile(r"^[-+]?(\d{1,3}(\.\d{3})+|\d+),\d+([eE][-+]?\d+)?$")  # 1,5  1.234,5
_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.234.567 or 1.234,5
_COMMA_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234  1,234.5
_DOT_DECIMAL = re.compile(r"^[-+]?\d*\.\d+([eE][-+]?\d+)?$")


@dataclass
class Dialect:
    encoding: str = "utf-8"
    sep: str = ","
    decimal: str = "."
    thousands: str | None = None

    def notes(self, path: Path) -> list[str]:
        said = []
        if self.encoding not in ("utf-8", "utf-8-sig"):
            said.append(f"{path.name} read as {_ENCODINGS.get(self.encoding, self.encoding)} (not UTF-8)")
        if self.sep != "," and path.suffix.lower() != ".tsv":
            said.append(f"{path.name} read as {_NAMES[self.sep]}-separated")
        if self.decimal != ".":
            said.append(f"{path.name} read with decimal commas" + (f" and '{self.thousands}' as thousands separator" if self.thousands else ""))
        elif self.thousands:
            said.append(f"{path.name} read with '{self.thousands}' as thousands separator")
        return said


def detect_encoding(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM, or NUL bytes between ASCII ones), else Windows-1252 / Latin-1."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if raw[:200].count(b"\x00") > len(raw[:200]) // 4:  # UTF-16 without a BOM
        return "utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be"
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            raw[: len(raw) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError as e:
            if e.start < len(raw) - 4:
                break
    try:
        raw.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _fields(lines: list[str], sep: str) -> list[list[str]]:
    return list(csv.reader(lines, delimiter=sep))


def detect_separator(lines: list[str]) -> str:
    """The candidate that splits every line into the same number (> 1) of fields, the most fields winning; ',' if none does."""
    best, width = ",", 1
    for sep in SEPARATORS:
        counts = {len(row) for row in _fields(lines, sep)}
        if len(counts) == 1 and (n := counts.pop()) > width:
            best, width = sep, n
    return best


def detect_numbers(rows: list[list[str]], sep: str) -> tuple[str, str | None]:
    """(decimal mark, thousands separator) from the data fields."""
    cells = [c.strip() for row in rows for c in row]
    comma_dec = sum(bool(_COMMA_DECIMAL.match(c)) for c in cells) if sep != "," else 0
    dot_dec = sum(bool(_DOT_DECIMAL.match(c)) for c in cells)
    if comma_dec > dot_dec:
        return ",", "." if any(_DOT_THOUSANDS.match(c) for c in cells) else None
    if any(_COMMA_THOUSANDS.match(c) for c in cells) and sep != ",":
        return ".", ","
    if sep == "," and any(_COMMA_THOUSANDS.match(c) for c in cells):  # quoted "1,234.5" in a comma-separated file
        return ".", ","
    return ".", None


def sniff(path: Path, tsv: bool = False) -> Dialect:
    """The dialect of the text table at ``path``."""
    with open(path, "rb") as f:
        raw = f.read(SAMPLE_BYTES)
    encoding = detect_encoding(raw)
    text = raw.decode(encoding, errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if len(raw) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    lines = lines[:200]
    sep = "\t" if tsv else detect_separator(lines)
    decimal, thousands = detect_numbers(_fields(lines[1:], sep), sep)
    return Dialect(encoding, sep, decimal, thousands)
