"""Reading uploads: CSV encodings, XLSX values, headers, limits and hostile files."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest

from portal.imports import sheets
from portal.imports.sheets import Column, Sheet, read_sheet

COLUMNS = (
    Column("code", "Item code", required=True, max_length=20, aliases=("物料编码",)),
    Column("qty", "Quantity", required=True, aliases=("数量",)),
    Column("due", "Due date"),
    Column("note", "Shared note", max_length=50),
)


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problems(sheet: Sheet) -> set[tuple[int | None, str | None]]:
    return {(error.row, error.column) for error in sheet.errors}


def values(sheet: Sheet) -> list[dict[str, str]]:
    return [row.values for row in sheet.rows]


# -- CSV ----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_in_every_accepted_encoding_reads_the_same(encoding: str) -> None:
    text = "物料编码,数量,Due date,Shared note\r\nP-1,5,2026-12-31,去毛刺\r\n"
    sheet = read_sheet(text.encode(encoding), "订单.csv", COLUMNS)
    assert sheet.kind == "csv"
    assert sheet.errors == []
    assert values(sheet) == [{"code": "P-1", "qty": "5", "due": "2026-12-31", "note": "去毛刺"}]


def test_gb18030_is_not_mistaken_for_utf8() -> None:
    data = "Item code,Quantity,Shared note\nP-1,1,按图纸加工\n".encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert values(read_sheet(data, "x.csv", COLUMNS))[0]["note"] == "按图纸加工"


def test_text_in_no_accepted_encoding_is_refused() -> None:
    sheet = read_sheet(b"Item code,Quantity\n\xff\xfe\xfa,1\n\x81", "x.csv", COLUMNS)
    assert sheet.rows == []
    assert problems(sheet) == {(None, None)}


def test_binary_data_is_not_csv() -> None:
    sheet = read_sheet(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "x.csv", COLUMNS)
    assert sheet.rows == []
    assert len(sheet.errors) == 1


def test_semicolon_and_tab_separated_files_are_read() -> None:
    for delimiter in (";", "\t"):
        data = f"Item code{delimiter}Quantity\nP-1{delimiter}2,5\n".encode()
        assert values(read_sheet(data, "x.csv", COLUMNS))[0]["qty"] == "2,5"


def test_header_is_the_first_non_empty_row_and_rows_keep_their_numbers() -> None:
    data = b"\n,,\nQUANTITY , item_code,unknown column\n5,P-1,x\n\n7,P-2,y\n"
    sheet = read_sheet(data, "x.csv", COLUMNS)
    assert sheet.header_row == 3
    assert [(row.number, row.values) for row in sheet.rows] == [(4, {"qty": "5", "code": "P-1"}), (6, {"qty": "7", "code": "P-2"})]


def test_missing_required_columns_are_named() -> None:
    sheet = read_sheet(b"Quantity,Shared note\n1,x\n", "x.csv", COLUMNS)
    assert problems(sheet) == {(1, "code")}
    assert sheet.rows == []


def test_a_column_given_twice_is_an_error() -> None:
    sheet = read_sheet(b"Item code,Quantity,code\nP-1,1,P-2\n", "x.csv", COLUMNS)
    assert (1, "code") in problems(sheet)


def test_empty_required_cells_and_overlong_cells_are_row_errors() -> None:
    data = ("Item code,Quantity,Shared note\n,1,ok\nP-1,2," + "x" * 51 + "\n").encode()
    sheet = read_sheet(data, "x.csv", COLUMNS)
    assert problems(sheet) == {(2, "code"), (3, "note")}
    assert len(sheet.rows) == 2


def test_formula_text_in_csv_is_text_and_the_export_apostrophe_is_removed() -> None:
    sheet = read_sheet(b"Item code,Quantity,Shared note\nP-1,=1+1,'=HYPERLINK(1)\n", "x.csv", COLUMNS)
    assert values(sheet) == [{"code": "P-1", "qty": "=1+1", "note": "=HYPERLINK(1)"}]


def test_a_broken_quote_is_reported_on_its_row_or_read_as_text() -> None:
    sheet = read_sheet(b'Item code,Quantity\nP-1,"1\nP-2,2\n', "x.csv", COLUMNS)
    # An unclosed quote swallows the rest of the file into one cell: the
    # row is still there, and still checked.
    assert len(sheet.rows) == 1


def test_more_rows_than_the_limit_are_refused_as_a_whole() -> None:
    data = b"Item code,Quantity\n" + b"P-1,1\n" * 11
    sheet = read_sheet(data, "x.csv", COLUMNS, max_rows=10)
    assert sheet.rows == []
    assert problems(sheet) == {(None, None)}
    assert sheet.errors[0].params == {"max": 10}


def test_a_huge_row_is_cut_to_the_column_limit() -> None:
    data = b"Item code,Quantity\nP-1,1" + b",x" * 100_000 + b"\n"
    sheet = read_sheet(data, "x.csv", COLUMNS)
    assert values(sheet) == [{"code": "P-1", "qty": "1"}]


def test_an_oversized_file_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_FILE_BYTES", 100)
    sheet = read_sheet(b"Item code,Quantity\n" + b"P-1,1\n" * 50, "x.csv", COLUMNS)
    assert sheet.rows == []
    assert sheet.errors[0].row is None


def test_an_empty_file_and_a_header_only_file_are_explained() -> None:
    assert read_sheet(b"", "x.csv", COLUMNS).errors[0].row is None
    only_header = read_sheet(b"Item code,Quantity\n", "x.csv", COLUMNS)
    assert only_header.rows == []
    assert len(only_header.errors) == 1


# -- XLSX ---------------------------------------------------------------------


def test_xlsx_numbers_and_dates_become_the_text_a_user_sees() -> None:
    data = xlsx(
        [
            ["Item code", "Quantity", "Due date", "Shared note"],
            ["P-1", 12.5, date(2026, 12, 31), None],
            ["P-2", 3, datetime(2027, 1, 2, 0, 0), "  spaced  "],
            ["P-3", 1e-7, 46022, True],
        ]
    )
    sheet = read_sheet(data, "plan.xlsx", COLUMNS)
    assert sheet.kind == "xlsx"
    assert values(sheet) == [
        {"code": "P-1", "qty": "12.5", "due": "2026-12-31", "note": ""},
        {"code": "P-2", "qty": "3", "due": "2027-01-02", "note": "spaced"},
        {"code": "P-3", "qty": "0.0000001", "due": "46022", "note": "TRUE"},
    ]


def test_xlsx_content_is_read_whatever_the_file_is_called() -> None:
    data = xlsx([["Item code", "Quantity"], ["P-1", 1]])
    assert read_sheet(data, "export.csv", COLUMNS).kind == "xlsx"


def test_formulas_are_read_as_their_saved_values_never_evaluated() -> None:
    data = xlsx([["Item code", "Quantity", "Shared note"], ["P-1", "=2*21", '=HYPERLINK("http://evil.example","x")']])
    # openpyxl saves formulas without a computed value: they read as empty.
    sheet = read_sheet(data, "plan.xlsx", COLUMNS)
    assert values(sheet) == [{"code": "P-1", "qty": "", "note": ""}]
    assert problems(sheet) == {(2, "qty")}
    # A workbook saved by Excel carries the value next to the formula.
    with_value = _patched(data, "<f>2*21</f><v />", "<f>2*21</f><v>42</v>")
    assert values(read_sheet(with_value, "plan.xlsx", COLUMNS))[0]["qty"] == "42"


def _patched(data: bytes, old: str, new: str) -> bytes:
    """The workbook with one string of its sheet XML replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                text = content.decode()
                assert old in text, text
                content = text.replace(old, new).encode()
            target.writestr(name, content)
    return buffer.getvalue()


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused() -> None:
    sheet = read_sheet(b"Item code,Quantity\nP-1,1\n", "plan.xlsx", COLUMNS)
    assert sheet.rows == []
    assert problems(sheet) == {(None, None)}


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 truncated zip",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,  # .xls or an encrypted workbook
    ],
)
def test_damaged_or_old_workbooks_are_refused(data: bytes) -> None:
    sheet = read_sheet(data, "plan.xlsx", COLUMNS)
    assert sheet.rows == []
    assert problems(sheet) == {(None, None)}


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert problems(read_sheet(buffer.getvalue(), "plan.xlsx", COLUMNS)) == {(None, None)}


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 1024 * 1024)
    data = xlsx([["Item code", "Quantity"], ["P-1", 1]])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, source.read(name))
        target.writestr("xl/media/padding.bin", b"\x00" * (2 * 1024 * 1024))
    assert len(buffer.getvalue()) < 64 * 1024
    sheet = read_sheet(buffer.getvalue(), "plan.xlsx", COLUMNS)
    assert sheet.rows == []
    assert problems(sheet) == {(None, None)}


def test_entity_expansion_in_the_sheet_xml_is_refused_quickly() -> None:
    data = xlsx([["Item code", "Quantity"], ["P-1", 1]])
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(f'<!ENTITY a{i} "{("&a;" if i == 1 else f"&a{i - 1};") * 10}">' for i in range(1, 9))
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                content = f"<?xml version='1.0'?><!DOCTYPE worksheet [{entities}]>".encode() + content.replace(b"P-1", b"&a8;")
            target.writestr(name, content)
    sheet = read_sheet(buffer.getvalue(), "plan.xlsx", COLUMNS)
    assert all(len(row.get("code")) < 1000 for row in sheet.rows)


def test_a_very_wide_xlsx_row_is_cut_to_the_column_limit() -> None:
    data = xlsx([["Item code", "Quantity"], ["P-1", 1, *(["x"] * 5000)]])
    assert values(read_sheet(data, "plan.xlsx", COLUMNS)) == [{"code": "P-1", "qty": "1"}]


def test_only_the_first_sheet_is_read() -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append(["Item code", "Quantity"])
    first.append(["P-1", 1])
    second = workbook.create_sheet("Help")
    second.append(["Item code", "Quantity"])
    second.append(["IGNORED", 9])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert [row.get("code") for row in read_sheet(buffer.getvalue(), "plan.xlsx", COLUMNS).rows] == ["P-1"]
