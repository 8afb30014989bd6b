"""Reading an uploaded file of books: checked whole before anything is queued, then row by row.

CSV needs a header row naming at least the columns ``title``, ``author``
and ``isbn`` (``subtitle`` is optional; other columns are ignored). JSON
Lines holds one object per line with those keys. Either is UTF-8 text (a
byte-order mark is allowed). A row's number is its line in the file, the
CSV header being line 1.
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from imports.models import ImportJob

REQUIRED_COLUMNS = ("title", "author", "isbn")
COLUMNS = ("title", "subtitle", "author", "isbn")
EXTENSIONS = {
    ".csv": ImportJob.Format.CSV,
    ".jsonl": ImportJob.Format.JSON_LINES,
    ".ndjson": ImportJob.Format.JSON_LINES,
}
CONTENT_TYPES = {
    "text/csv": ImportJob.Format.CSV,
    "application/jsonl": ImportJob.Format.JSON_LINES,
    "application/x-ndjson": ImportJob.Format.JSON_LINES,
    "application/x-jsonlines": ImportJob.Format.JSON_LINES,
}
NEEDED = ", ".join(REQUIRED_COLUMNS)


class BadFile(ValueError):
    """The file cannot be imported; the message says why and what to do."""


@dataclass(frozen=True)
class Row:
    """One row of the file: its line number, and its fields or why it could not be read."""

    number: int
    data: dict[str, Any]
    problem: str = ""


@dataclass(frozen=True)
class CheckedFile:
    name: str
    format: str
    text: str
    rows: int


def file_format(upload: UploadedFile) -> str:
    """CSV or JSON Lines, from the file name's extension, else from its content type."""
    extension = PurePath(upload.name or "").suffix.lower()
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    content_type = (upload.content_type or "").partition(";")[0].strip().lower()
    if content_type in CONTENT_TYPES:
        return CONTENT_TYPES[content_type]
    raise BadFile(
        f"{upload.name!r} is neither CSV nor JSON Lines. Send a .csv file (or text/csv), "
        "or a .jsonl file (or application/jsonl) with one JSON object per line."
    )


def decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadFile(
            f"The file is not UTF-8 text: byte 0x{raw[error.start]:02x} at offset "
            f"{error.start} is not UTF-8. Save it as UTF-8 and send it again."
        ) from None


def check(upload: UploadedFile, max_bytes: int) -> CheckedFile:
    """The file's format, text and number of rows; BadFile says what is wrong with it."""
    if upload.size is not None and upload.size > max_bytes:
        raise BadFile(
            f"The file is {filesizeformat(upload.size)}; an import takes at most "
            f"{filesizeformat(max_bytes)} ({max_bytes} bytes, DJANGO_IMPORT_MAX_BYTES). "
            "Split it into smaller files."
        )
    format_ = file_format(upload)
    text = decode(upload.read())
    if not text.strip():
        raise BadFile("The file is empty: it holds no rows of books.")
    if format_ == ImportJob.Format.CSV:
        try:
            header = csv_header(text)
        except csv.Error as error:
            raise BadFile(f"The file is not valid CSV: {error}.") from None
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise BadFile(
                f"The CSV header has no {', '.join(missing)} column: it must name {NEEDED} "
                f"(subtitle is optional). Its first line reads {','.join(header)!r}."
            )
    else:
        first = next(rows(format_, text))
        if first.problem:
            raise BadFile(f"Line {first.number} is not JSON Lines: {first.problem}")
        missing = [key for key in REQUIRED_COLUMNS if key not in first.data]
        if missing:
            raise BadFile(
                f"Line {first.number} has no {', '.join(missing)} key: every line needs "
                f"{NEEDED} (subtitle is optional)."
            )
    try:
        count = sum(1 for _ in rows(format_, text))
    except csv.Error as error:
        raise BadFile(f"The file is not valid CSV: {error}.") from None
    if count == 0:
        raise BadFile("The file has a header but no rows of books.")
    return CheckedFile(upload.name or "", format_, text, count)


def csv_header(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text), strict=True), [])
    return [name.strip().lower() for name in first]


def rows(format_: str, text: str) -> Iterator[Row]:
    """Every row of the file, in order, blank lines skipped."""
    if format_ == ImportJob.Format.CSV:
        yield from csv_rows(text)
    else:
        yield from json_lines_rows(text)


def csv_rows(text: str) -> Iterator[Row]:
    # Strict: a quote left open is an error, not a field running to the end of the file.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = [name.strip().lower() for name in next(reader, [])]
    line = reader.line_num
    for values in reader:
        number, line = line + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue
        fields = dict(zip(header, values, strict=False))
        yield Row(number, {key: fields[key] for key in COLUMNS if key in fields})


def json_lines_rows(text: str) -> Iterator[Row]:
    for number, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield Row(number, {}, f"invalid JSON ({error.msg}, column {error.colno}).")
            continue
        if not isinstance(value, dict):
            yield Row(number, {}, "not a JSON object.")
            continue
        yield Row(number, {key: value[key] for key in COLUMNS if key in value})
