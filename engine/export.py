"""Export a saved result: its figure (PNG/SVG/PDF) or its numbers (CSV/JSON)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from engine.errors import BadInput, choices
from engine.files import write_atomically
from engine.figures import FIGURE_FORMATS, render, save_figure
from engine.results import ResultRecord, load_result
from engine.tables import table

DATA_FORMATS = ("csv", "json")
FORMATS = FIGURE_FORMATS + DATA_FORMATS


def export_record(record: ResultRecord, fmt: str, out: str | Path, dpi: int = 150, **options) -> Path:
    """Write `out` atomically; `options` go to the figure renderer (the pane's choices)."""
    if fmt not in FORMATS:
        raise BadInput(f"unknown export format {fmt!r}; valid: {choices(FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise BadInput(f"cannot write {out}: folder {out.parent} does not exist")
    if fmt in FIGURE_FORMATS:
        figure = render(record, **options)
        return write_atomically(out, lambda tmp: save_figure(figure, tmp, fmt, dpi))
    return write_atomically(out, lambda tmp: tmp.write_text(data_text(record, fmt)))


def data_text(record: ResultRecord, fmt: str) -> str:
    header, rows = table(record)
    if fmt == "json":
        return json.dumps({**record.header(), "table": {"columns": header, "rows": rows}}, indent=2)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def export_result(result_dir: str, fmt: str, out: str, dpi: int = 150) -> Path:
    return export_record(load_result(result_dir), fmt, out, dpi)
