"""Pure parsing of imported files: amounts, dates, consent flags, names, header mapping, delimiters."""

import string
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain import imports
from webapp.domain.imports import BadValue
from webapp.domain.visits import MAX_AMOUNT_CENTS

PARIS = ZoneInfo("Europe/Paris")
cents_values = st.integers(min_value=0, max_value=MAX_AMOUNT_CENTS)
dates = st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 12, 31))


def _thousands(euros: int, separator: str) -> str:
    text = str(euros)
    groups = []
    while text:
        groups.insert(0, text[-3:])
        text = text[:-3]
    return separator.join(groups)


@given(
    cents_values,
    st.sampled_from([".", ","]),
    st.sampled_from(["", " ", "\u00a0", "\u202f"]),
    st.sampled_from(["", " €", "€", " EUR"]),
)
def test_amounts_in_euros_with_dot_or_comma_round_trip_to_cents(cents, decimal_mark, thousands, suffix):
    euros, rest = divmod(cents, 100)
    written = f"{_thousands(euros, thousands)}{decimal_mark}{rest:02d}{suffix}"
    assert imports.parse_amount_cents(written, MAX_AMOUNT_CENTS) == cents
    assert imports.parse_amount_cents(f"  {written}  ") == cents


@given(cents_values)
def test_short_forms_of_amounts(cents):
    euros, rest = divmod(cents, 100)
    if rest == 0:
        assert imports.parse_amount_cents(str(euros)) == cents
        assert imports.parse_amount_cents(f"{euros}.000") == cents
    if rest % 10 == 0:
        assert imports.parse_amount_cents(f"{euros},{rest // 10}") == cents


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["-", "−"]))
def test_negative_amounts_are_refused(cents, minus):
    with pytest.raises(BadValue):
        imports.parse_amount_cents(f"{minus}{cents // 100},{cents % 100:02d}")


@pytest.mark.parametrize("text", ["", "abc", "12,3,4", "1.234,56", "1,234.56", "12,345", "1e3", "--1", "12 ,5x"])
def test_things_that_are_not_amounts(text):
    with pytest.raises(BadValue):
        imports.parse_amount_cents(text)


def test_amount_above_the_counter_maximum_is_refused():
    with pytest.raises(BadValue, match="above"):
        imports.parse_amount_cents(f"{MAX_AMOUNT_CENTS // 100 + 1},00", MAX_AMOUNT_CENTS)
    assert imports.parse_amount_cents("0") == 0


@given(dates)
def test_dates_iso_french_and_excel_serial_round_trip(day):
    assert imports.parse_date(day.isoformat()) == day
    assert imports.parse_date(day.strftime("%d/%m/%Y")) == day
    assert imports.parse_date(f"{day.day}/{day.month}/{day.year}") == day
    assert imports.parse_date(day.strftime("%d.%m.%Y")) == day
    assert imports.parse_date(day.strftime("%d-%m-%Y")) == day
    serial = (day - date(1899, 12, 30)).days
    assert imports.parse_date(str(serial)) == day
    assert imports.parse_date(serial) == day
    assert imports.parse_date(float(serial)) == day
    assert imports.parse_date(datetime(day.year, day.month, day.day)) == day


@given(dates, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
def test_datetimes_are_local_times_unless_they_carry_an_offset(day, hour, minute, second):
    moment = datetime(day.year, day.month, day.day, hour, minute, second)
    assert imports.parse_date(moment.isoformat()) == moment
    assert imports.parse_date(moment.isoformat(sep=" ")) == moment
    assert imports.parse_date(moment.strftime("%d/%m/%Y %H:%M:%S")) == moment
    assert imports.parse_date(moment.strftime("%d/%m/%Y %H:%M")) == moment.replace(second=0)
    aware = imports.parse_date(moment.isoformat() + "Z")
    assert aware == moment.replace(tzinfo=UTC)
    assert imports.parse_date(moment.isoformat() + "+02:00") == moment.replace(tzinfo=UTC) - timedelta(hours=2)


@given(st.integers(min_value=61, max_value=73_000), st.integers(min_value=1, max_value=86_399))
def test_excel_serials_with_a_time_fraction(days, seconds):
    serial = days + seconds / 86_400
    expected = datetime(1899, 12, 30) + timedelta(days=days, seconds=seconds)
    assert abs(imports.parse_date(serial) - expected) <= timedelta(seconds=1)
    assert abs(imports.parse_date(repr(serial)) - expected) <= timedelta(seconds=1)


@pytest.mark.parametrize(
    "text", ["", "31/02/2024", "2024-13-01", "2024-02-30", "hello", "14/03/24", "1899-12-31", "2024/02/31", "13h"]
)
def test_things_that_are_not_dates(text):
    with pytest.raises(BadValue):
        imports.parse_date(text)


@given(dates)
def test_a_date_alone_is_local_noon_on_the_same_local_day(day):
    instant = imports.to_utc(day, PARIS)
    local = instant.astimezone(PARIS)
    assert instant.tzinfo == UTC
    assert (local.date(), local.hour, local.minute) == (day, 12, 0)


def test_local_times_follow_daylight_saving():
    assert imports.to_utc(date(2024, 7, 14), PARIS) == datetime(2024, 7, 14, 10, 0, tzinfo=UTC)
    assert imports.to_utc(date(2024, 1, 14), PARIS) == datetime(2024, 1, 14, 11, 0, tzinfo=UTC)
    assert imports.to_utc(datetime(2024, 7, 14, 9, 30), PARIS) == datetime(2024, 7, 14, 7, 30, tzinfo=UTC)
    aware = datetime(2024, 7, 14, 9, 30, tzinfo=UTC)
    assert imports.to_utc(aware, PARIS) == aware


@pytest.mark.parametrize("value", ["oui", "OUI", " Oui ", "yes", "Y", "1", "x", "X", "true", "TRUE", "vrai", 1, True])
def test_truthy_consent_cells(value):
    assert imports.parse_bool(value) is True


@pytest.mark.parametrize("value", ["non", "no", "0", "", None, "false", "faux", "peut-être", 0, False, 2])
def test_other_consent_cells_are_not_consent(value):
    assert imports.parse_bool(value) is False


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("DUPONT Élodie", ("Élodie", "DUPONT")),
        ("Élodie Dupont", ("Élodie", "Dupont")),
        ("Jean-Pierre DE LA TOUR", ("Jean-Pierre", "DE LA TOUR")),
        ("Martin", ("", "Martin")),
        ("  ", ("", "")),
    ],
)
def test_full_names_are_split(full, expected):
    assert imports.split_full_name(full) == expected


def _variants(name: str):
    """The same header written the ways exports write it."""
    return st.sampled_from([name, name.upper(), name.title(), name.replace(" ", "_"), name.replace(" ", "-")]).map(
        lambda text: f" {text} "
    )


NOISE = ["ville", "notes", "commentaire", "vendeur", "caisse", "TVA", "", "colonne 7"]


@given(st.data())
def test_visit_headers_are_found_whatever_their_spelling_and_order(data):
    chosen = {
        field: data.draw(st.sampled_from(synonyms).flatmap(_variants), label=field)
        for field, synonyms in imports.VISIT_FIELDS.items()
    }
    noise = data.draw(st.lists(st.sampled_from(NOISE), max_size=3), label="noise")
    headers = data.draw(st.permutations([*chosen.values(), *noise]), label="headers")
    mapping = imports.guess_mapping(headers, imports.VISIT_FIELDS)
    for field, header in chosen.items():
        assert headers[mapping[field]] == header


@given(st.data())
def test_customer_headers_are_found_whatever_their_spelling_and_order(data):
    fields = ["last_name", "first_name", "email", "phone", "postcode", "consent_email", "consent_date"]
    chosen = {}
    for field in fields:
        taken = {imports.fold(h) for h in chosen.values()}
        options = [s for s in imports.CUSTOMER_FIELDS[field] if imports.fold(s) not in taken]
        chosen[field] = data.draw(st.sampled_from(options).flatmap(_variants), label=field)
    headers = data.draw(st.permutations([*chosen.values(), *NOISE[:3]]), label="headers")
    mapping = imports.guess_mapping(headers, imports.CUSTOMER_FIELDS)
    for field, header in chosen.items():
        assert headers[mapping[field]] == header, (field, header, headers)


def test_french_headers_with_accents_and_prefix_matches():
    headers = ["Prénom", "NOM", "E-mail du client", "Tél. portable", "Code Postal", "Réf.", "Opt-in", "Date d'opt-in"]
    mapping = imports.guess_mapping(headers, imports.CUSTOMER_FIELDS)
    assert mapping == {
        "first_name": 0,
        "last_name": 1,
        "email": 2,
        "phone": 3,
        "postcode": 4,
        "reference": 5,
        "consent_email": 6,
        "consent_date": 7,
    }


def test_a_shop_software_export_with_newsletter_and_sms_opt_ins():
    headers = [
        "Civilité", "NOM", "Prénom", "Adresse 1", "Code Postal", "Ville", "Tél. portable", "E-mail",
        "Date naissance", "Accepte newsletter", "Accepte les SMS", "Date consentement",
    ]  # fmt: skip
    mapping = imports.guess_mapping(headers, imports.CUSTOMER_FIELDS)
    assert mapping == {
        "last_name": 1,
        "first_name": 2,
        "street": 3,
        "postcode": 4,
        "town": 5,
        "phone": 6,
        "email": 7,
        "consent_email": 9,
        "consent_sms": 10,
        "consent_date": 11,
    }


def test_mapping_override_by_name_index_or_none():
    headers = ["A", "B", "courriel", "nom"]
    mapping = imports.resolve_mapping(headers, imports.CUSTOMER_FIELDS, {"email": "a", "phone": 1, "last_name": None})
    assert mapping == {"email": 0, "phone": 1}
    with pytest.raises(imports.ImportFileError):
        imports.resolve_mapping(headers, imports.CUSTOMER_FIELDS, {"email": "nowhere"})
    with pytest.raises(imports.ImportFileError):
        imports.resolve_mapping(headers, imports.CUSTOMER_FIELDS, {"shoe_size": "A"})


def test_missing_required_columns_are_named():
    headers = ["Customer Ref", "Date"]
    mapping = imports.guess_mapping(headers, imports.VISIT_FIELDS)
    with pytest.raises(imports.MissingColumns, match="amount") as caught:
        imports.require(mapping, imports.VISIT_REQUIRED, headers)
    assert caught.value.missing == ["amount"]


@given(
    st.lists(st.text(alphabet=string.ascii_letters + " éè_", min_size=1, max_size=12), min_size=2, max_size=8),
    st.sampled_from(imports.DELIMITERS),
)
def test_the_delimiter_is_sniffed_from_the_header(names, delimiter):
    assert imports.sniff_delimiter(delimiter.join(names) + "\r\n") == delimiter


def test_delimiter_inside_quotes_does_not_count():
    assert imports.sniff_delimiter('"nom, prénom";"email";"ville, code"') == ";"
    assert imports.sniff_delimiter("email") == ","


@given(st.text(max_size=30))
def test_folding_is_idempotent_and_plain(text):
    folded = imports.fold(text)
    assert imports.fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded


@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
    separator=st.sampled_from([":", "h", "H"]),
    iso=st.booleans(),
)
def test_a_time_column_completes_a_date_in_either_way_of_writing_it(day, hour, minute, separator, iso):
    date_text = day.isoformat() if iso else f"{day:%d/%m/%Y}"
    combined = imports.with_time(date_text, f"{hour}{separator}{minute:02d}")
    assert imports.parse_date(combined) == datetime(day.year, day.month, day.day, hour, minute)


@pytest.mark.parametrize("time_text", ["", "midi", "25", "25:00", "12:60", "12:3", "12:30 PM"])
def test_a_missing_or_unreadable_time_leaves_the_date_alone(time_text):
    assert imports.with_time("01/03/2024", time_text) == "01/03/2024"
    assert imports.with_time("2024-03-01 09:00", "14:00") == "2024-03-01 09:00"


@pytest.mark.parametrize("header", ["N° adhérent", "Numéro adhérent", "Matricule", "N° carte fidélité", "Code client"])
def test_a_shops_member_or_card_number_is_its_reference(header):
    assert imports.guess_mapping(["Nom", header], imports.CUSTOMER_FIELDS) == {"last_name": 0, "reference": 1}
