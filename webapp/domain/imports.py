"""Reading the files that shops bring: decoding, sniffing, header mapping and typed cell values.

Shops export their files from whatever they have: Excel (XLSX, or CSV saved
in Windows-1252 with semicolons), a till (UTF-8 with a BOM, tabs), a
spreadsheet (comma, UTF-8). Everything here is pure and independent of the
database; `visit_import` and `customer_import` use it.

- Encoding: a BOM decides (UTF-8 or UTF-16); otherwise the whole file is
  checked as UTF-8 in one fast pass, and Windows-1252 (Latin-1 plus the
  curly quotes and the euro sign) is used when it is not valid UTF-8.
- Delimiter: the one among `;`, tab, `,`, `|` that occurs most in the header
  line (outside quotes).
- Header names are compared after folding case, accents, punctuation and
  spaces (`Code Postal`, `code_postal`, `CODE-POSTAL` are one name), against
  lists of French and English synonyms. `guess_mapping` returns
  field -> column index so that a back-office preview can show it and let
  the admin correct it (`resolve_mapping(..., override)`).
- Line numbers are those of the file as a text editor shows them (the header
  is line 1); in an XLSX file, the sheet's row numbers.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from webapp.domain.errors import DomainError

MAX_CELL_CHARS = 10_000
DELIMITERS = (";", "\t", ",", "|")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)
MIN_YEAR, MAX_YEAR = 1900, 2100
LOCAL_NOON = time(12, 0)


# --- errors -----------------------------------------------------------------------------------


class ImportFileError(DomainError):
    """The file cannot be read at all (nothing is imported)."""

    code = "import_file_unreadable"


class MissingColumns(ImportFileError):
    code = "import_missing_columns"

    def __init__(self, missing: list[str], found: list[str]):
        detail = f"missing required column(s): {', '.join(missing)} (found: {', '.join(found) or 'none'})"
        super().__init__(detail, missing=missing, found=found)
        self.missing = missing
        self.found = found


class UnknownShop(DomainError):
    code = "unknown_shop"


class BadValue(ValueError):
    """One cell cannot be understood; its message is the reason shown to the admin."""


# --- reading ------------------------------------------------------------------------------------


@dataclass
class Table:
    """A header and the data rows of a file, as (line number, cells) pairs, streamed."""

    headers: list[str]
    rows: Iterator[tuple[int, list]]
    kind: str = "csv"  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None
    line_count: int = 0  # physical lines of a CSV file, header included (0: unknown)


def detect_encoding(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """`utf-8-sig`, `utf-16`, `utf-8` or `cp1252` (`latin-1` when even that fails)."""
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("cp1252")()
        try:
            while chunk := handle.read(chunk_size):
                decoder.decode(chunk)
            return "cp1252"
        except UnicodeDecodeError:
            return "latin-1"


def count_lines(path: str | Path, chunk_size: int = 1 << 20) -> int:
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(chunk_size), b""))


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header line most, quotes ignored; `,` for a single column."""
    unquoted = re.sub(r'"[^"]*"', "", header_line)
    counts = {delimiter: unquoted.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def is_xlsx(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


_NOT_TEXT = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"\xd0\xcf\x11\xe0", b"Rar!", b"7z\xbc\xaf")
_CONTROL_BYTES = frozenset(range(32)) - {9, 10, 11, 12, 13, 26}  # tab, newlines, form feed and DOS end-of-file pass


def detect_kind(path: str | Path, probe_bytes: int = 1 << 16) -> str | None:
    """What a file is by its content, whatever its name: "xlsx", "csv" (any text), or None.

    An XLSX file is a ZIP archive holding a workbook; text is what decodes
    without NUL or other control characters (UTF-16 only with its BOM).
    """
    with open(path, "rb") as handle:
        head = handle.read(probe_bytes)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        return "xlsx" if {"[Content_Types].xml", "xl/workbook.xml"} <= names else None
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = codecs.getincrementaldecoder("utf-16")(errors="replace").decode(head).encode("utf-8", "replace")
    if not head.strip() or head.startswith(_NOT_TEXT):
        return None
    return None if any(byte in _CONTROL_BYTES for byte in head) else "csv"


HEADER_SEARCH_ROWS = 10  # a header is looked for among the first non-blank rows (titles may come first)


def _header_index(candidates: list[list[str]], fields: Mapping[str, tuple[str, ...]] | None) -> int:
    """Which of the first non-blank rows is the header: the first that names two known columns,
    so that a title such as `Export clients du 01/03/2024` above it is skipped; else the first."""
    if fields:
        for index, headers in enumerate(candidates):
            if len(guess_mapping(headers, fields)) >= 2:
                return index
    return 0


def _find_header(rows: Iterator, cells_of: Callable[[Any], list[str] | None], fields) -> tuple | None:
    """The header among the first non-blank rows: (its line number, the row, its cells, the rows after it).

    `cells_of` gives a row's cells as text, None for a blank row. The rows read while looking
    come back first in the rows after the header; None when there is no non-blank row.
    """
    read: list = []  # every row read so far, blank ones included
    candidates: list[tuple[int, list[str]]] = []  # (line number, cells) of the non-blank ones
    for row in rows:
        read.append(row)
        cells = cells_of(row)
        if cells is not None:
            candidates.append((len(read), cells))
            if len(candidates) >= HEADER_SEARCH_ROWS:
                break
    if not candidates:
        return None
    line, cells = candidates[_header_index([cells for _, cells in candidates], fields)]
    return line, read[line - 1], cells, itertools.chain(read[line:], rows)


@contextmanager
def open_table(path: str | Path, *, allow_xlsx: bool = True, fields: Mapping[str, tuple[str, ...]] | None = None):
    """Open a CSV (any encoding and delimiter) or an XLSX file (first sheet) as a Table.

    With `fields`, title lines above the header are skipped (see `_header_index`).
    """
    path = Path(path)
    try:
        xlsx = is_xlsx(path)
    except OSError as exc:
        raise ImportFileError(f"cannot open {path.name}: {exc.strerror or exc}") from exc
    if xlsx:
        if not allow_xlsx:
            raise ImportFileError("an Excel file was given where a CSV file is expected: save it as CSV")
        with _open_xlsx(path, fields) as table:
            yield table
        return
    with open(path, "rb") as probe:
        if probe.read(8) == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise ImportFileError("old Excel (.xls) files are not supported: save the file as XLSX or CSV")
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as handle:
        header = _find_header(handle, _csv_line_cells, fields)
        if header is None:
            raise ImportFileError("the file is empty")
        header_line_number, header_line, headers, rest = header
        if "\x00" in header_line:
            raise ImportFileError("this is not a text (CSV) file")
        delimiter = sniff_delimiter(header_line)
        yield Table(
            headers=[h.strip().lstrip("\ufeff") for h in headers],
            rows=_csv_rows(rest, delimiter, header_line_number),
            kind="csv",
            encoding=encoding,
            delimiter=delimiter,
            line_count=count_lines(path),
        )


def _csv_line_cells(line: str) -> list[str] | None:
    """One line's cells, split by its own likeliest delimiter; None for a blank line."""
    return next(csv.reader([line], delimiter=sniff_delimiter(line))) if line.strip() else None


def _csv_rows(handle, delimiter: str, first_line: int) -> Iterator[tuple[int, list]]:
    reader = csv.reader(handle, delimiter=delimiter)
    last = first_line
    try:
        for cells in reader:
            line = last + 1
            last = first_line + reader.line_num
            if not "".join(cells).strip():
                continue
            yield line, cells
    except csv.Error as exc:
        raise ImportFileError(f"line {last + 1}: unreadable CSV ({exc})") from exc


@contextmanager
def _open_xlsx(path: Path, fields: Mapping[str, tuple[str, ...]] | None):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds of errors on bad files
        raise ImportFileError(f"unreadable Excel file: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        header = _find_header(sheet.iter_rows(values_only=True), _xlsx_row_cells, fields)
        if header is None:
            raise ImportFileError("the first sheet is empty")
        line, _row, headers, rest = header
        while headers and not headers[-1]:
            headers.pop()
        yield Table(headers=headers, rows=_xlsx_rows(rest, line), kind="xlsx")
    finally:
        workbook.close()


def _xlsx_row_cells(values) -> list[str] | None:
    """A sheet row's cells as text; None for a blank row."""
    cells = [_cell_text(v) for v in values or ()]
    return cells if any(cells) else None


def _xlsx_rows(rows, header_line: int) -> Iterator[tuple[int, list]]:
    line = header_line
    for values in rows:
        line += 1
        cells = list(values or ())
        if not any(_cell_text(v) for v in cells):
            continue
        yield line, cells


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell(cells: list, index: int | None):
    """The value of a column in a row (None when the column is absent or the row is short)."""
    if index is None or index >= len(cells):
        return None
    return cells[index]


def text(value) -> str:
    """A cell as trimmed text: numbers from Excel without a spurious `.0`."""
    result = _cell_text(value)
    return result if len(result) <= MAX_CELL_CHARS else result[:MAX_CELL_CHARS]


# --- header mapping ---------------------------------------------------------------------------


def fold(value: str) -> str:
    """Lower case, no accents, punctuation and underscores as single spaces: for comparing names."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", stripped.casefold()).split())


# How shops title their own member and card numbers: a customer file's reference, a visit file's customer.
_MEMBER_HEADERS = (
    "n adherent",
    "numero adherent",
    "num adherent",
    "code adherent",
    "matricule",
    "n membre",
    "numero membre",
)
_CARD_HEADERS = ("card number", "n carte", "numero carte", "numero de carte", "carte fidelite", "n carte fidelite")

VISIT_FIELDS: dict[str, tuple[str, ...]] = {
    "customer_ref": (
        "customer ref",
        "customer reference",
        "customer id",
        "customer",
        "ref",
        "reference",
        "ref client",
        "reference client",
        "id client",
        "client",
        "numero client",
        "num client",
        "n client",
        "no client",
        "code client",
        "card",
        "card no",
        "loyalty card",
        "carte",
        "no carte",
        "num carte",
        "numero de carte fidelite",
        *_CARD_HEADERS,
        *_MEMBER_HEADERS,
    ),
    "date": ("date", "visit date", "visited at", "date visite", "date de visite", "date de passage", "jour", "day"),
    "time": ("time", "heure", "heure de passage", "heure visite", "heure de visite", "hour", "visit time"),
    "amount": ("amount", "montant", "montant ttc", "total", "total ttc", "amount eur", "montant eur", "ca", "panier"),
    "shop": ("shop", "shop slug", "magasin", "boutique", "commerce", "store"),
}
VISIT_REQUIRED = ("customer_ref", "date", "amount")

CUSTOMER_FIELDS: dict[str, tuple[str, ...]] = {
    "last_name": ("nom", "last name", "lastname", "nom de famille", "surname", "family name"),
    "first_name": ("prenom", "first name", "firstname", "given name", "prenom client"),
    "full_name": (
        "nom complet",
        "full name",
        "name",
        "nom prenom",
        "prenom nom",
        "nom et prenom",
        "customer name",
        "client",
        "nom client",
    ),
    "email": (
        "email",
        "e mail",
        "courriel",
        "mail",
        "adresse email",
        "adresse e mail",
        "adresse mail",
        "adresse courriel",
        "email address",
    ),
    "phone": (
        "telephone",
        "tel",
        "phone",
        "mobile",
        "portable",
        "gsm",
        "cell",
        "telephone mobile",
        "telephone portable",
        "tel portable",
        "tel mobile",
        "numero de telephone",
        "phone number",
        "mobile phone",
    ),
    "postcode": ("code postal", "cp", "postcode", "postal code", "zip", "zip code", "zipcode", "code postale"),
    "street": ("adresse", "adresse postale", "rue", "voie", "adresse 1", "address", "street", "street address"),
    "town": ("ville", "commune", "localite", "city", "town"),
    "reference": (
        "reference",
        "ref",
        "customer ref",
        "customer reference",
        "id client",
        "client id",
        "customer id",
        "numero client",
        "num client",
        "n client",
        "no client",
        "code client",
        "ref client",
        "reference client",
        "id",
        *_MEMBER_HEADERS,
        *_CARD_HEADERS,
    ),
    "consent_email": (
        "consentement email",
        "consentement e mail",
        "consentement courriel",
        "consentement mail",
        "consentement",
        "optin",
        "opt in",
        "optin email",
        "opt in email",
        "newsletter",
        "accepte newsletter",
        "accepte la newsletter",
        "inscrit newsletter",
        "inscription newsletter",
        "abonne newsletter",
        "optin newsletter",
        "accord newsletter",
        "accord email",
        "accepte email",
        "accepte les emails",
        "accepte offres",
        "accepte les offres",
        "consentement marketing",
        "consentement rgpd",
        "rgpd",
        "email consent",
        "email optin",
        "marketing consent",
        "consent",
    ),
    "consent_sms": (
        "consentement sms",
        "optin sms",
        "opt in sms",
        "sms consent",
        "sms optin",
        "accepte sms",
        "accepte les sms",
        "accord sms",
    ),
    "consent_post": (
        "consentement courrier",
        "consentement postal",
        "optin courrier",
        "opt in courrier",
        "post consent",
        "postal consent",
        "accepte courrier",
        "accepte les courriers",
        "accord courrier",
    ),
    "consent_date": (
        "date de consentement",
        "date consentement",
        "date du consentement",
        "date optin",
        "date opt in",
        "date d optin",
        "optin date",
        "opt in date",
        "consent date",
        "date of consent",
        "consentement date",
    ),
}
CONSENT_FIELDS = {"consent_email": "email", "consent_sms": "sms", "consent_post": "post"}


def guess_mapping(headers: Iterable[str], fields: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Field -> column index, from the header names; each column serves one field at most.

    Passes, each over every field before the next: the folded name is a
    synonym; the same without spaces (`e-mail`, `opt in`); the name starts
    with a synonym followed by more words (`email du client`), longest
    synonym first. Unknown columns are ignored.
    """
    folded = [fold(h) for h in headers]
    squashed = [h.replace(" ", "") for h in folded]
    synonyms = {name: [fold(s) for s in words] for name, words in fields.items()}
    mapping: dict[str, int] = {}
    passes = [
        [(name, folded, set(words)) for name, words in synonyms.items()],
        [(name, squashed, {w.replace(" ", "") for w in words}) for name, words in synonyms.items()],
    ]
    for one_pass in passes:
        for name, names, words in one_pass:
            if name in mapping:
                continue
            for index, header in enumerate(names):
                if header and header in words and index not in mapping.values():
                    mapping[name] = index
                    break
    by_length = sorted(((len(word), name, word) for name, words in synonyms.items() for word in words), reverse=True)
    for _length, name, word in by_length:
        if name in mapping:
            continue
        for index, header in enumerate(folded):
            if header.startswith(word + " ") and index not in mapping.values():
                mapping[name] = index
                break
    return mapping


def resolve_mapping(
    headers: list[str],
    fields: Mapping[str, tuple[str, ...]],
    override: Mapping[str, str | int | None] | None = None,
) -> dict[str, int]:
    """The guessed mapping, corrected by `override` (field -> header name, column index, or None to drop)."""
    mapping = guess_mapping(headers, fields)
    for name, target in (override or {}).items():
        if name not in fields:
            raise ImportFileError(f"unknown field {name!r} in the column mapping")
        if target is None or target == "":
            mapping.pop(name, None)
            continue
        if isinstance(target, int):
            if not 0 <= target < len(headers):
                raise ImportFileError(f"no column number {target} (the file has {len(headers)})")
            index = target
        else:
            exact = [i for i, header in enumerate(headers) if header == target]
            loose = [i for i, header in enumerate(headers) if fold(header) == fold(target)]
            if not (exact or loose):
                raise ImportFileError(f"no column named {target!r} in the file")
            index = (exact or loose)[0]
        for other, column in list(mapping.items()):
            if column == index and other != name:
                del mapping[other]
        mapping[name] = index
    return mapping


def require(mapping: Mapping[str, int], required: Iterable[str], headers: list[str]) -> None:
    missing = [name for name in required if name not in mapping]
    if missing:
        raise MissingColumns(missing, [h for h in headers if h])


# --- typed values ------------------------------------------------------------------------------

_AMOUNT_RE = re.compile(r"^(\d{1,9})(?:[.,](\d*))?$")
_AMOUNT_NOISE = str.maketrans("", "", " \u00a0\u202f\u2009'€")


def parse_amount_cents(value, max_cents: int | None = None) -> int:
    """Decimal euros (`23,50`, `23.5`, `1 234,00 €`, `0`) to integer cents; never a float on the way."""
    if isinstance(value, bool):
        raise BadValue("not an amount")
    if isinstance(value, int):
        cents = value * 100
    elif isinstance(value, float):
        raw = repr(value)
        return parse_amount_cents(raw if "e" not in raw else f"{value:.2f}", max_cents)
    else:
        raw = str(value or "").strip()
        if not raw:
            raise BadValue("missing amount")
        cleaned = raw.translate(_AMOUNT_NOISE)
        if cleaned.upper().endswith("EUR"):
            cleaned = cleaned[:-3]
        if cleaned.startswith("-"):
            raise BadValue(f"negative amount: {raw!r}")
        cleaned = cleaned.lstrip("+")
        match = _AMOUNT_RE.match(cleaned)
        if not match:
            raise BadValue(f"not an amount: {raw!r}")
        whole, fraction = match.group(1), match.group(2) or ""
        if len(fraction) > 2 and fraction[2:].strip("0"):
            raise BadValue(f"more than two decimals: {raw!r}")
        cents = int(whole) * 100 + int((fraction + "00")[:2])
    if cents < 0:
        raise BadValue("negative amount")
    if max_cents is not None and cents > max_cents:
        raise BadValue(f"amount above {max_cents // 100} €: {value!r}")
    return cents


_DMY_RE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]+(\d{1,2})[:h](\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?$", re.IGNORECASE
)
_YMD_SLASH_RE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SERIAL_RE = re.compile(r"^\d{1,5}(?:[.,]\d+)?$")


_TIME_RE = re.compile(r"^(\d{1,2})[:hH](\d{2})(?::(\d{2})(?:[.,]\d+)?)?$")


def with_time(date_text: str, time_text: str) -> str:
    """A date cell completed by a separate time cell (`14:32`, `14h32`, `14:32:05`), as one date text.

    A date that already carries a time, an empty time, or a time that is not one leaves the
    date as it is (an unreadable time then costs the visit its time of day, not the visit).
    """
    date_text, time_text = date_text.strip(), time_text.strip()
    match = _TIME_RE.match(time_text)
    if not match or not date_text or len(date_text) > 10:
        return date_text
    hour, minute, second = (int(part or 0) for part in match.groups())
    if hour > 23 or minute > 59 or second > 59:
        return date_text
    return f"{date_text} {hour:02d}:{minute:02d}:{second:02d}"


def excel_serial_to_datetime(serial: float) -> datetime:
    """An Excel serial day number (1900 date system) to a naive local datetime."""
    if not 1 <= serial < 2_958_466:
        raise BadValue(f"not a date: {serial!r}")
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86_400))


def parse_date(value, *, excel_serials: bool = True) -> date | datetime:
    """ISO 8601 date or datetime, `DD/MM/YYYY` (also `-` or `.`) with an optional time, Excel cells and serials.

    Returns a `date` when no time is given, a naive `datetime` for a local time,
    an aware `datetime` when the text carries an offset (`Z`, `+02:00`).
    """
    if isinstance(value, datetime):
        # An Excel date cell comes back as a datetime at midnight: that is a date.
        result: date | datetime = value.date() if value.time() == time(0) and value.tzinfo is None else value
    elif isinstance(value, date):
        result = value
    elif isinstance(value, bool):
        raise BadValue("not a date")
    elif isinstance(value, int | float):
        if not excel_serials:
            raise BadValue(f"not a date: {value!r}")
        moment = excel_serial_to_datetime(float(value))
        result = moment.date() if moment.time() == time(0) else moment
    else:
        raw = str(value or "").strip()
        if not raw:
            raise BadValue("missing date")
        result = _parse_date_text(raw, excel_serials)
    if not MIN_YEAR <= result.year <= MAX_YEAR:
        raise BadValue(f"date out of range: {value!s}")
    return result


def _parse_date_text(raw: str, excel_serials: bool) -> date | datetime:
    match = _DMY_RE.match(raw)
    if match:
        day, month, year, hour, minute, second = match.groups()
        return _build(raw, int(year), int(month), int(day), hour, minute, second)
    match = _YMD_SLASH_RE.match(raw)
    if match:
        year, month, day, hour, minute, second = match.groups()
        return _build(raw, int(year), int(month), int(day), hour, minute, second)
    if excel_serials and _SERIAL_RE.match(raw):
        moment = excel_serial_to_datetime(float(raw.replace(",", ".")))
        return moment.date() if moment.time() == time(0) else moment
    if len(raw) == 10 and raw[4] == "-":
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise BadValue(f"not a date: {raw!r}") from exc
    if len(raw) >= 13 and raw[4] == "-" and raw[10] in "T t":
        try:
            return datetime.fromisoformat(raw[:10] + "T" + raw[11:])
        except ValueError as exc:
            raise BadValue(f"not a date: {raw!r}") from exc
    raise BadValue(f"not a date: {raw!r}")


def _build(raw: str, year: int, month: int, day: int, hour, minute, second) -> date | datetime:
    try:
        if hour is None:
            return date(year, month, day)
        return datetime(year, month, day, int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise BadValue(f"not a date: {raw!r}") from exc


def to_utc(value: date | datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a parsed date: a date alone is local noon, a naive datetime is local time."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime.combine(value, LOCAL_NOON, tzinfo=zone).astimezone(UTC)


_TRUTHY = frozenset({"oui", "o", "yes", "y", "1", "x", "true", "vrai", "ok", "si", "opt in", "optin", "accepte"})


def parse_bool(value) -> bool:
    """A consent cell: `oui`, `yes`, `1`, `x`, `true`, `vrai`... (any case) is True; anything else False."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return fold(str(value or "")) in _TRUTHY


@dataclass
class Problems:
    """Rejected rows, kept whole up to `keep` and counted beyond."""

    keep: int = 1000
    items: list[tuple[int, str]] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, reason: str) -> None:
        self.total += 1
        if len(self.items) < self.keep:
            self.items.append((line, reason))


def split_full_name(full_name: str) -> tuple[str, str]:
    """(first name, last name) from one cell: `DUPONT Élodie` (upper-case words: last name) or `Élodie Dupont`."""
    words = (full_name or "").split()
    if not words:
        return "", ""
    upper = [w for w in words if len(w.strip(".-'")) > 1 and w.isupper()]
    if upper and len(upper) < len(words):
        return " ".join(w for w in words if w not in upper), " ".join(upper)
    if len(words) == 1:
        return "", words[0]
    return words[0], " ".join(words[1:])


@dataclass
class ColumnPreview:
    """What a back-office preview shows before importing: the header, the guessed mapping, a few rows."""

    headers: list[str]
    mapping: dict[str, int]
    sample: list[tuple[int, list]]
    kind: str
    encoding: str | None
    delimiter: str | None


def preview_columns(path: str | Path, fields: Mapping[str, tuple[str, ...]], sample_rows: int = 5) -> ColumnPreview:
    with open_table(path, fields=fields) as table:
        sample = []
        for row in table.rows:
            sample.append(row)
            if len(sample) >= sample_rows:
                break
        return ColumnPreview(
            headers=table.headers,
            mapping=guess_mapping(table.headers, fields),
            sample=sample,
            kind=table.kind,
            encoding=table.encoding,
            delimiter=table.delimiter,
        )


# --- bulk writing (shared by the importers; plain SQLAlchemy connections, no ORM) ----------------


def bind_processor(column, dialect):
    """The column's own conversion to what the driver receives (identity when it has none)."""
    return column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)


def allocate_ids(connection, table_name: str, count: int) -> list[int]:
    """`count` fresh primary keys: from the table's sequence on PostgreSQL, after the largest on SQLite.

    On SQLite the importer holds the database's write lock since its first
    write (its ImportBatch row), so nobody can take these ids in between.
    """
    if not table_name.isidentifier():
        raise ValueError(f"not a table name: {table_name!r}")
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        query = f"SELECT nextval(pg_get_serial_sequence('{table_name}', 'id')) FROM generate_series(1, %(n)s)"  # noqa: S608
        return list(connection.exec_driver_sql(query, {"n": count}).scalars())
    largest = connection.exec_driver_sql(f"SELECT max(id) FROM {table_name}").scalar() or 0  # noqa: S608
    return list(range(largest + 1, largest + 1 + count))


def insert_rows(connection, table_name: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert tuples already converted for the driver: COPY on PostgreSQL, one executemany elsewhere.

    SQLAlchemy's per-row parameter processing alone would cost more than the
    whole 2,000,000-visit budget; values are converted beforehand, once per
    distinct value, with `bind_processor`.
    """
    if not rows:
        return
    if not all(name.isidentifier() for name in (table_name, *columns)):
        raise ValueError("table and column names must be identifiers")
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table_name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table_name} ({names}) VALUES ({marks})", rows)  # noqa: S608
