"""The report tables as CSV and as an XLSX spreadsheet (not the raw log: that is
`/admin/export.csv`).

CSV: every table one after the other (its title on a line, its headings, its rows, a blank
line), plain numbers with a decimal point and shares in percent, UTF-8 with a byte-order mark
so that Excel opens the Indonesian words right. XLSX (openpyxl, the `reports` extra): one sheet
per table, numbers as numbers (minutes with one decimal, shares as percentages), so a camat's
staff can sum and chart them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from antrian.reports.tables import COUNT, MINUTES, SHARE, Cell, Table


def _plain(value: Cell, kind: str) -> Cell:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value * 100, 1) if kind == SHARE else round(value, 1)
    return value


def to_csv(tables: Sequence[Table], heading: Sequence[str] = ()) -> bytes:
    """All tables in one CSV file (UTF-8 with BOM), each under its title."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    for line in heading:
        w.writerow([line])
    if heading:
        w.writerow([])
    for table in tables:
        w.writerow([table.title])
        w.writerow([f"{c} (%)" if k == SHARE else c for c, k in zip(table.columns, table.kinds, strict=True)])
        for row in table.rows:
            w.writerow([_plain(v, k) for v, k in zip(row, table.kinds, strict=True)])
        if table.footnote:
            w.writerow([table.footnote])
        w.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[Table], heading: Sequence[str] = ()) -> bytes:
    """One sheet per table (its name from the table's key), the report's heading on top."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.key[:31])
        for line in heading:
            sheet.append([line])
        sheet.append([table.title])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=13)
        sheet.append(list(table.columns))
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in table.rows:
            sheet.append([None if v is None else v for v in row])
            for cell, kind in zip(sheet[sheet.max_row], table.kinds, strict=True):
                if kind == SHARE:
                    cell.number_format = "0.0%"
                elif kind == MINUTES:
                    cell.number_format = "0.0"
                elif kind == COUNT:
                    cell.number_format = "#,##0"
        if table.footnote:
            sheet.append([table.footnote])
        for i, title in enumerate(table.columns, 1):
            width = max([len(title), *(len(str(r[i - 1] or "")) for r in table.rows)]) + 2
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width, 48)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
