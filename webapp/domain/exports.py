"""Tabular exports (CSV and XLSX), safe against spreadsheet formula injection."""

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

from webapp.domain.rfm import safe_cell

FORMATS = ("csv", "xlsx")


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> tuple[bytes, int]:
    """UTF-8 with BOM and semicolons, as French spreadsheet programs expect; (bytes, row count)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        count += 1
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), count


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence], title: str = "Export") -> tuple[bytes, int]:
    """An XLSX workbook; text cells are written as text, never as formulas."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    count = 0
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), count


def export(fmt: str, header: Sequence[str], rows: Iterable[Sequence], title: str = "Export") -> tuple[bytes, int]:
    if fmt == "xlsx":
        return to_xlsx(header, rows, title)
    return to_csv(header, rows)


MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
