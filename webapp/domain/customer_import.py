"""Importing a shop's own customer file into the shared file, without ever merging silently.

Columns are mapped from the header (French and English names, see
`imports.CUSTOMER_FIELDS`; `mapping` corrects the guess: field -> header
name, column number, or None). Values are normalised: email lower-cased and
validated, phone in E.164 (region FR), names trimmed, postcode five digits
(a four-digit postcode is an Excel-eaten leading zero: `1000` is `01000`).
A row with an invalid email, or with nothing to identify a person (no name,
email or valid phone), is rejected with its line and reason. An invalid phone
number or postcode does not cost the person: the value is left out and the
row's report carries a note (NOTES) saying so.

Matching, row by row in file order (people created by earlier rows count):
- certain: the shop's own reference seen in an earlier import, else the
  same email, else the same phone -> "matched": the shop's reference is
  added to that person and only their empty fields are filled;
- probable: no certain match, but same postcode and first + last names
  alike once accents, case and word order are folded: rapidfuzz's
  token_sort_ratio >= 85 (`Elodie Dupond`/`Élodie Dupont`: 92,
  `DUPONT Elodie`/`Élodie Dupont`: 100, `Paul`/`Pauline Dupont`: 88; but
  `Léa Roux`/`Léo Rouxel`: 78 and `Paul`/`Élodie Dupont`: 67 are not) ->
  "to_review": the person is created AND a ReviewItem links them to the
  candidate (score = ratio / 100, reason = both spellings and the postcode);
  a person decides later in the back office, nothing is merged here. The
  threshold errs towards review: a false alarm costs one click, a silent
  merge of two people would mix their data;
- else "created".
Duplicate rows of the file (same reference, email or phone) are matched to
the person created by the earlier row.

Consent. An imported person gets a marketing consent (Consent row, method
"import", granted) on a channel only when the file proves it: that channel's
consent column is truthy (oui, yes, 1, x, true...) AND the consent date column
holds a valid date, not in the future. Its `recorded_at` is that date (when
it was given); the wording names the file, the shop, that date and the day of
the import. A person who already has any consent record on that channel
(granted or withdrawn) gets none from an import: an old shop file never
overrides a later decision.

Erased people (right to erasure) are never brought back: a row whose
reference points to one is rejected.

All in the caller's transaction (flush only); the ImportBatch row holds the
counters and the full per-line report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from webapp.domain import imports
from webapp.domain.accounts import (
    InvalidEmail,
    InvalidPhone,
    InvalidPostcode,
    clean_name,
    normalise_email,
    normalise_phone,
    normalise_postcode,
)
from webapp.domain.branding import get_union
from webapp.domain.imports import BadValue, MissingColumns
from webapp.domain.names import folded_names
from webapp.models import Consent, Customer, CustomerReference, ImportBatch, ReviewItem, Shop

FUZZY_THRESHOLD = 85.0
NOTES = ("consent not recorded", "phone number ignored", "postcode ignored")  # how a kept row's notes begin


def notes_of(reason: str) -> list[str]:
    """The notes in a row's stored reason (after the match's own explanation, `; `-separated)."""
    return [part for part in reason.split("; ") if part.startswith(NOTES)]


def report_sections(lines: list[dict]) -> tuple[list, list, list]:
    """A stored report's rows (ImportBatch.report["lines"]) as the report shows them: the refused
    rows with their reason, the rows to review with the match's explanation, and the notes of
    the rows kept; each a list of (line, text in English)."""
    refused = [(row["line"], row.get("reason", "")) for row in lines if row["outcome"] == "rejected"]
    reviews = [(row["line"], row.get("reason", "").split("; ")[0]) for row in lines if row["outcome"] == "to_review"]
    notes = [
        (row["line"], note) for row in lines if row["outcome"] != "rejected" for note in notes_of(row.get("reason", ""))
    ]
    return refused, reviews, notes


MAX_REFERENCE = 64
IDENTITY_FIELDS = ("email", "phone", "last_name", "first_name", "full_name")
_PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "postcode", "reference", "street", "town")
STREET_MAX, TOWN_MAX = 200, 80


@dataclass
class RowOutcome:
    line: int
    outcome: str  # created | matched | to_review | rejected
    reason: str = ""
    customer_id: int | None = None
    candidate_id: int | None = None
    score: float | None = None  # 0..1, as in ReviewItem.score


@dataclass
class CustomerImportReport:
    batch_id: int | None = None
    filename: str = ""
    rows: int = 0
    created: int = 0
    matched: int = 0
    to_review: int = 0
    rejected: int = 0
    consents: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    outcomes: list[RowOutcome] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None

    def as_json(self) -> dict:
        return {
            "kind": "customers",
            "filename": self.filename,
            "rows": self.rows,
            "created": self.created,
            "matched": self.matched,
            "to_review": self.to_review,
            "rejected": self.rejected,
            "consents": self.consents,
            "columns": self.columns,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "lines": [
                {key: value for key, value in vars(outcome).items() if value not in (None, "")}
                for outcome in self.outcomes
            ],
        }


@dataclass
class Contact:
    """One parsed row."""

    line: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    postcode: str | None
    reference: str | None
    consents: dict[str, datetime]
    notes: list[str]
    street: str | None = None  # the postal address, for letters
    town: str | None = None


class _Person:
    """A person of the shared file touched by this import: existing (id known) or to create."""

    __slots__ = ("id", *_PERSON_FIELDS, "new", "line")

    def __init__(self, customer_id: int | None = None, *, line: int = 0, **fields):
        self.id = customer_id
        self.new = customer_id is None
        self.line = line
        for name in _PERSON_FIELDS:
            setattr(self, name, fields.get(name))

    def label(self) -> str:
        return f"customer #{self.id}" if self.id is not None else f"the person of line {self.line}"


def import_customers(
    session: Session,
    source: str | Path | imports.Table,
    *,
    shop: Shop,
    now: datetime,
    mapping: Mapping[str, str | int | None] | None = None,
    filename: str | None = None,
    created_by_id: int | None = None,
) -> CustomerImportReport:
    """Import a shop's customer file (CSV or XLSX) in the current transaction; see the module docstring."""
    if isinstance(source, imports.Table):
        return _import_table(session, source, shop, now, mapping, filename or "", created_by_id)
    path = Path(source)
    with imports.open_table(path, fields=imports.CUSTOMER_FIELDS) as table:
        return _import_table(session, table, shop, now, mapping, filename or path.name, created_by_id)


def parse_contact(cells: list, line: int, columns: Mapping[str, int], zone, now: datetime) -> Contact:
    """A row's typed, normalised values; BadValue with the reason when the row cannot be used."""

    def value(name):
        return imports.cell(cells, columns.get(name))

    first_name = clean_name(imports.text(value("first_name"))) or None
    last_name = clean_name(imports.text(value("last_name"))) or None
    if not (first_name or last_name) and "full_name" in columns:
        first, last = imports.split_full_name(imports.text(value("full_name")))
        first_name, last_name = clean_name(first) or None, clean_name(last) or None

    raw_email = imports.text(value("email"))
    try:
        email = normalise_email(raw_email) if raw_email else None
    except InvalidEmail as exc:
        raise BadValue(f"invalid email {raw_email!r}") from exc
    notes: list[str] = []
    raw_phone = imports.text(value("phone"))
    try:
        phone = normalise_phone(raw_phone)
    except InvalidPhone:
        phone = None
        notes.append(f"phone number ignored: {raw_phone!r} is not valid")
    raw_postcode = imports.text(value("postcode")).replace(" ", "")
    if len(raw_postcode) == 4 and raw_postcode.isdigit():
        raw_postcode = "0" + raw_postcode
    try:
        postcode = normalise_postcode(raw_postcode) if raw_postcode else None
    except InvalidPostcode:
        postcode = None
        notes.append(f"postcode ignored: {raw_postcode!r} is not five digits")
    reference = imports.text(value("reference")) or None
    if reference and len(reference) > MAX_REFERENCE:
        raise BadValue(f"reference over {MAX_REFERENCE} characters")
    if not (email or phone or first_name or last_name):
        if raw_phone and phone is None:
            raise BadValue(f"invalid phone number {raw_phone!r}")
        raise BadValue("no name, email or phone: nothing identifies the person")

    consents: dict[str, datetime] = {}
    wanted = [channel for name, channel in imports.CONSENT_FIELDS.items() if imports.parse_bool(value(name))]
    if wanted:
        given = _consent_date(value("consent_date"), zone, now)
        if given is None:
            notes.append("consent not recorded: no valid consent date")
        else:
            consents = dict.fromkeys(wanted, given)
    street = " ".join(imports.text(value("street")).split())[:STREET_MAX] or None
    town = " ".join(imports.text(value("town")).split())[:TOWN_MAX] or None
    return Contact(line, first_name, last_name, email, phone, postcode, reference, consents, notes, street, town)


def _consent_date(raw, zone, now: datetime) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        parsed = imports.parse_date(raw)
    except BadValue:
        return None
    when = imports.to_utc(parsed, zone)
    if when.astimezone(zone).date() > now.astimezone(zone).date():
        return None
    return min(when, now)


def _import_table(session, table, shop, now, override, filename, created_by_id) -> CustomerImportReport:
    columns = imports.resolve_mapping(table.headers, imports.CUSTOMER_FIELDS, override)
    if not any(name in columns for name in IDENTITY_FIELDS):
        raise MissingColumns(["email, phone or name (nom / prénom)"], [h for h in table.headers if h])
    zone = ZoneInfo(get_union(session).timezone or "Europe/Paris")
    report = CustomerImportReport(
        filename=filename,
        encoding=table.encoding,
        delimiter=table.delimiter,
        columns={name: table.headers[index] for name, index in sorted(columns.items(), key=lambda item: item[1])},
    )
    batch = ImportBatch(
        kind="customers", shop_id=shop.id, filename=filename[:255], created_by_id=created_by_id, created_at=now
    )
    session.add(batch)
    session.flush()
    report.batch_id = batch.id

    contacts: list[Contact] = []
    for line, cells in table.rows:
        report.rows += 1
        try:
            contacts.append(parse_contact(cells, line, columns, zone, now))
        except BadValue as error:
            report.outcomes.append(RowOutcome(line, "rejected", str(error)))

    matcher = _Matcher(session, shop.id, {c.postcode for c in contacts if c.postcode})
    decided = [(contact, matcher.decide(contact)) for contact in contacts]
    _write(session, batch, shop, now, filename, matcher, decided, report)

    report.outcomes.sort(key=lambda outcome: outcome.line)
    for outcome in report.outcomes:
        setattr(report, outcome.outcome, getattr(report, outcome.outcome) + 1)
    session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch.id)
        .values(
            created=report.created,
            matched=report.matched,
            to_review=report.to_review,
            rejected=report.rejected,
            report=report.as_json(),
        )
    )
    session.expire(batch)
    return report


@dataclass
class _Decision:
    outcome: str
    person: _Person | None = None
    reason: str = ""
    candidate: _Person | None = None
    score: float | None = None


class _Matcher:
    """The shared file as far as this import needs it, kept up to date as rows create people."""

    def __init__(self, session: Session, shop_id: int, postcodes: set[str]):
        self.people: dict[int, _Person] = {}
        self.erased: set[int] = set()
        merged: dict[int, int] = {}
        for customer_id, into, erased_at in session.execute(
            select(Customer.id, Customer.merged_into_id, Customer.erased_at).where(
                (Customer.merged_into_id.is_not(None)) | (Customer.erased_at.is_not(None))
            )
        ):
            if into is not None:
                merged[customer_id] = into
            if erased_at is not None:
                self.erased.add(customer_id)
        self.merged = merged
        self.refs: dict[str, _Person | int] = {
            reference: customer_id
            for reference, customer_id in session.execute(
                select(CustomerReference.reference, CustomerReference.customer_id).where(
                    CustomerReference.shop_id == shop_id
                )
            )
        }
        self.emails: dict[str, _Person | int] = {}
        self.phones: dict[str, _Person | int] = {}
        active = (Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))
        for customer_id, email, phone in session.execute(
            select(Customer.id, Customer.email, Customer.phone)
            .where(*active, (Customer.email.is_not(None)) | (Customer.phone.is_not(None)))
            .order_by(Customer.id)
        ):
            if email:
                self.emails.setdefault(email.lower(), customer_id)
            if phone:
                self.phones.setdefault(phone, customer_id)
        self.by_postcode: dict[str, list[tuple[str, _Person | int, str]]] = defaultdict(list)
        wanted = sorted(postcodes)
        for start in range(0, len(wanted), 500):
            for customer_id, first, last, postcode in session.execute(
                select(Customer.id, Customer.first_name, Customer.last_name, Customer.postcode)
                .where(*active, Customer.postcode.in_(wanted[start : start + 500]))
                .where(Customer.first_name.is_not(None), Customer.last_name.is_not(None))
                .order_by(Customer.id)
            ):
                self.by_postcode[postcode].append((imports.fold(f"{first} {last}"), customer_id, f"{first} {last}"))
        self.new_refs: list[tuple[_Person, str]] = []
        self.created: list[_Person] = []

    def person(self, target: _Person | int) -> _Person:
        if isinstance(target, _Person):
            return target
        customer_id = self.final(target)
        if customer_id not in self.people:
            self.people[customer_id] = _Person(customer_id)
        return self.people[customer_id]

    def final(self, customer_id: int) -> int:
        for _ in range(50):
            if customer_id not in self.merged:
                break
            customer_id = self.merged[customer_id]
        return customer_id

    def decide(self, contact: Contact) -> _Decision:
        target, how = None, ""
        if contact.reference and contact.reference in self.refs:
            target, how = self.refs[contact.reference], "same shop reference"
            if not isinstance(target, _Person) and self.final(target) in self.erased:
                return _Decision("rejected", reason="this person's data was erased at their request")
        elif contact.email and contact.email in self.emails:
            target, how = self.emails[contact.email], "same email"
        elif contact.phone and contact.phone in self.phones:
            target, how = self.phones[contact.phone], "same phone"
        if target is not None:
            person = self.person(target)
            self._remember(person, contact)
            where = f" as {person.label()}" if person.new else ""
            return _Decision("matched", person, f"{how}{where}")

        person = _Person(line=contact.line, **{name: getattr(contact, name) for name in _PERSON_FIELDS})
        self.created.append(person)
        decision = _Decision("created", person)
        probable = self._probable(contact)
        self._remember(person, contact)
        if probable is not None:
            candidate, display, score = probable
            names = f"{contact.first_name} {contact.last_name}"
            decision = _Decision(
                "to_review",
                person,
                f"« {names} » ~ « {display} », {contact.postcode}",
                candidate,
                round(score / 100, 3),
            )
        return decision

    def _probable(self, contact: Contact) -> tuple[_Person, str, float] | None:
        if not (contact.first_name and contact.last_name and contact.postcode):
            return None
        candidates = self.by_postcode.get(contact.postcode)
        if not candidates:
            return None
        best = process.extractOne(
            imports.fold(f"{contact.first_name} {contact.last_name}"),
            [folded for folded, _target, _display in candidates],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=FUZZY_THRESHOLD,
        )
        if best is None:
            return None
        _choice, score, index = best
        _folded, target, display = candidates[index]
        return self.person(target), display, score

    def _remember(self, person: _Person, contact: Contact) -> None:
        """Index what this row brings, so later rows of the file find this person too."""
        if contact.reference and contact.reference not in self.refs:
            self.refs[contact.reference] = person
            self.new_refs.append((person, contact.reference))
        if contact.email:
            self.emails.setdefault(contact.email, person)
        if contact.phone:
            self.phones.setdefault(contact.phone, person)
        named = person.new and contact.first_name and contact.last_name and contact.postcode
        if named and not any(target is person for _f, target, _d in self.by_postcode[contact.postcode]):
            display = f"{contact.first_name} {contact.last_name}"
            self.by_postcode[contact.postcode].append((imports.fold(display), person, display))


def _write(session, batch, shop, now, filename, matcher: _Matcher, decided, report) -> None:
    """Create, fill, reference, consent and queue for review, in a few statements."""
    connection = session.connection()
    # Fill the empty fields (first row wins), never overwriting what the shared file already has.
    fills: dict[int, dict] = defaultdict(dict)
    for contact, decision in decided:
        if decision.outcome != "matched" or decision.person is None:
            continue
        person = decision.person
        for name in _PERSON_FIELDS:
            incoming = getattr(contact, name)
            if not incoming:
                continue
            if person.new:
                if getattr(person, name) is None and _free(matcher, name, incoming, person):
                    setattr(person, name, incoming)
            else:
                fills[person.id].setdefault(name, incoming)

    new_people = matcher.created
    ids = imports.allocate_ids(connection, "customer", len(new_people))
    created_at = imports.bind_processor(Customer.__table__.c.created_at, connection.dialect)(now)
    rows = []
    for person, customer_id in zip(new_people, ids, strict=True):
        person.id = customer_id
        rows.append(
            (
                customer_id,
                person.first_name,
                person.last_name,
                *folded_names(person.first_name, person.last_name),
                person.email,
                person.phone,
                person.postcode,
                person.street,
                person.town,
                "import",
                person.reference,
                created_at,
            )
        )
    columns = ("id", "first_name", "last_name", "first_name_folded", "last_name_folded")
    columns += ("email", "phone", "postcode", "street", "town", "source", "reference", "created_at")
    imports.insert_rows(connection, "customer", columns, rows)

    if fills:
        for customer in session.scalars(select(Customer).where(Customer.id.in_(list(fills)))):
            for name, incoming in fills[customer.id].items():
                if getattr(customer, name) in (None, "") and _free(
                    matcher, name, incoming, matcher.people[customer.id]
                ):
                    setattr(customer, name, incoming)
        session.flush()

    if matcher.new_refs:
        session.execute(
            insert(CustomerReference.__table__),
            [
                {"customer_id": person.id, "shop_id": shop.id, "reference": reference, "created_at": now}
                for person, reference in matcher.new_refs
            ],
        )

    report.consents = _record_consents(session, shop, now, filename, decided)

    reviews = []
    for contact, decision in decided:
        person = decision.person
        report.outcomes.append(
            RowOutcome(
                contact.line,
                decision.outcome,
                "; ".join(filter(None, [decision.reason, *contact.notes])),
                person.id if person else None,
                decision.candidate.id if decision.candidate else None,
                decision.score,
            )
        )
        if decision.outcome == "to_review":
            reviews.append(
                {
                    "batch_id": batch.id,
                    "customer_id": person.id,
                    "candidate_id": decision.candidate.id,
                    "score": decision.score,
                    "reason": decision.reason,
                    "status": "pending",
                }
            )
    if reviews:
        session.execute(insert(ReviewItem.__table__), reviews)


def _free(matcher: _Matcher, name: str, value: str, person: _Person) -> bool:
    """An email or phone may fill a field only if nobody else in the shared file has it."""
    if name == "email":
        holder = matcher.emails.get(value)
    elif name == "phone":
        holder = matcher.phones.get(value)
    else:
        return True
    return holder is None or holder is person or (not isinstance(holder, _Person) and holder == person.id)


def _record_consents(session, shop, now, filename, decided) -> int:
    proven: dict[int, dict[str, datetime]] = defaultdict(dict)
    for contact, decision in decided:
        if decision.person is None or not contact.consents:
            continue
        for channel, given in contact.consents.items():
            proven[decision.person.id].setdefault(channel, given)
    if not proven:
        return 0
    already: set[tuple[int, str]] = set()
    ids = list(proven)
    for start in range(0, len(ids), 1000):
        already.update(
            session.execute(
                select(Consent.customer_id, Consent.channel)
                .where(Consent.customer_id.in_(ids[start : start + 1000]))
                .distinct()
            ).tuples()
        )
    rows = []
    for customer_id, channels in proven.items():
        for channel, given in channels.items():
            if (customer_id, channel) in already:
                continue
            rows.append(
                {
                    "customer_id": customer_id,
                    "channel": channel,
                    "granted": True,
                    "method": "import",
                    "wording": _wording(channel, filename, shop, given, now),
                    "recorded_at": given,
                }
            )
    if rows:
        session.execute(insert(Consent.__table__), rows)
    return len(rows)


_CHANNEL_NAMES = {"email": "par email", "sms": "par SMS", "post": "par courrier"}


def _wording(channel: str, filename: str, shop: Shop, given: datetime, now: datetime) -> str:
    given_day: date = given.date()
    return (
        f"Accord pour recevoir les communications commerciales {_CHANNEL_NAMES[channel]}, "
        f"attesté par le fichier clients « {filename} » de {shop.name} ({shop.slug}) : "
        f"consentement donné le {given_day:%d/%m/%Y}, importé le {now:%d/%m/%Y}."
    )


__all__ = ["CustomerImportReport", "RowOutcome", "import_customers", "parse_contact", "FUZZY_THRESHOLD"]
