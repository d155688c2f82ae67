"""Card numbers and signed codes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain import cards
from webapp.domain.errors import InvalidCardCode

KEY = "unit-test-key-0123456789abcdef0123"
numbers = st.integers(min_value=10**10, max_value=10**11 - 1).map(lambda n: str(n) + cards.luhn_check_digit(str(n)))


@pytest.mark.parametrize("number", ["79927398713", "4539578763621486", "378282246310005"])
def test_luhn_check_digit_matches_known_valid_numbers(number):
    assert cards.luhn_check_digit(number[:-1]) == number[-1]


def test_random_numbers_are_valid_and_not_sequential():
    drawn = [cards.random_number() for _ in range(500)]
    assert all(cards.is_valid_number(n) and len(n) == 12 and n[0] != "0" for n in drawn)
    assert len(set(drawn)) == len(drawn)


@given(numbers, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_breaks_the_luhn_check(number, position, delta):
    position = position % 12
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not cards.is_valid_number(changed)


@given(numbers, st.integers(min_value=1, max_value=5))
def test_code_round_trips_and_mac_is_at_least_64_bits(number, version):
    code = cards.card_code(KEY, number, version)
    parsed = cards.parse_code(code)
    assert parsed.number == number
    assert len(parsed.mac) == cards.MAC_LENGTH and cards.MAC_BYTES * 8 >= 64
    assert parsed.mac == cards.card_mac(KEY, number, version)


@given(numbers)
def test_mac_depends_on_key_version_and_number(number):
    mac = cards.card_mac(KEY, number, 1)
    assert mac != cards.card_mac(KEY + "x", number, 1)
    assert mac != cards.card_mac(KEY, number, 2)


@given(st.text(max_size=60))
def test_parse_code_never_crashes_on_garbage(text):
    try:
        parsed = cards.parse_code(text)
    except InvalidCardCode:
        return
    assert cards.is_valid_number(parsed.number)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "123",
        "123456789012",
        "123456789012.",
        "123456789012.ABC",
        "12345678901X.AAAAAAAAAAAAAAAA",
        "123456789013.AAAAAAAAAAAAAAA1",
    ],
)
def test_malformed_codes_are_refused(code):
    with pytest.raises(InvalidCardCode):
        cards.parse_code(code)


def test_parse_code_accepts_the_full_url_and_lowercase():
    number = "100000000008"
    assert cards.is_valid_number(number)
    code = cards.card_code(KEY, number, 1)
    assert cards.parse_code(f"https://example.org/c/{code}").number == number
    assert cards.parse_code(code.lower()).mac == code.split(".")[1]


def test_format_and_normalise_number():
    assert cards.format_number("123456789012") == "1234 5678 9012"
    assert cards.normalise_number(" 1234 5678-9012 ") == "123456789012"
