"""The draw algorithm on its own (webapp/domain/draws.py): reproducible, fair, nobody twice."""

import hashlib
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.draws import draw_order, frozen_list_hash, random_stream, seed_commitment, uniform_below

TWO_64 = 1 << 64
# Chi-square critical values at p = 0.001 (tables): a fair draw exceeds them once in a thousand runs.
CHI2_CRITICAL_0001 = {9: 27.877, 19: 43.820}

seeds = st.binary(min_size=32, max_size=32)
frozen_lists = st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=60).map(
    lambda people: [(entry_id, person) for entry_id, person in enumerate(people, start=1)]
)


def chi_square(counts: Counter, categories: int, expected: float) -> float:
    return sum((counts.get(category, 0) - expected) ** 2 / expected for category in range(categories))


def seed_number(index: int) -> bytes:
    return hashlib.sha256(b"quartier-tests-chi-square" + index.to_bytes(4, "big")).digest()


@given(seeds, frozen_lists, st.integers(min_value=0, max_value=80))
def test_the_same_published_data_always_gives_the_same_winners(seed, frozen, count):
    assert draw_order(seed, frozen, count) == draw_order(bytes(seed), [tuple(e) for e in frozen], count)


@given(seeds, frozen_lists, st.integers(min_value=0, max_value=80))
def test_nobody_is_drawn_twice_and_the_draw_stops_when_everyone_is_drawn(seed, frozen, count):
    order = draw_order(seed, frozen, count)
    people = [frozen[position][1] for position in order]
    assert len(set(order)) == len(order) and all(0 <= position < len(frozen) for position in order)
    assert len(set(people)) == len(people)
    assert len(order) == min(count, len({person for _entry, person in frozen}))


@given(seeds, frozen_lists)
def test_drawing_more_winners_extends_the_same_order(seed, frozen):
    """Reserve winners come after the winners: asking for more never changes the first ones."""
    people = len({person for _entry, person in frozen})
    assert draw_order(seed, frozen, people)[: max(0, people - 1)] == draw_order(seed, frozen, people - 1)


def test_the_random_stream_is_sha256_in_counter_mode_as_published():
    seed = bytes(range(32))
    stream = random_stream(seed)
    for k in range(3):
        digest = hashlib.sha256(seed + b"quartier-draw-v1" + k.to_bytes(8, "big")).digest()
        assert stream() == int.from_bytes(digest[:8], "big")
    assert seed_commitment(seed) == hashlib.sha256(seed).hexdigest()
    assert frozen_list_hash([(4, 2), (7, 2)]) == hashlib.sha256(b"4,2\n7,2\n").hexdigest()


def test_values_above_the_last_whole_multiple_are_rejected_not_folded():
    """With n = 3, 2**64 mod 3 = 1: the single value 2**64 - 1 would favour 0, so it is drawn again."""
    values = iter([TWO_64 - 1, TWO_64 - 2, 7])
    assert uniform_below(lambda: next(values), 3) == (TWO_64 - 2) % 3
    values = iter([TWO_64 - 1, 7])
    assert uniform_below(lambda: next(values), 3) == 1


@given(st.integers(min_value=1, max_value=TWO_64))
def test_uniform_below_stays_in_range(n):
    assert 0 <= uniform_below(random_stream(n.to_bytes(9, "big")), n) < n


def test_each_eligible_entry_wins_with_the_same_frequency():
    """20,000 draws of one winner among 20 entries, each seed fixed: the chi-square test passes."""
    frozen = [(entry_id, entry_id) for entry_id in range(1, 21)]
    draws = 20_000
    counts = Counter(draw_order(seed_number(index), frozen, 1)[0] for index in range(draws))
    assert chi_square(counts, 20, draws / 20) < CHI2_CRITICAL_0001[19]


def test_with_several_prizes_each_entry_is_among_the_winners_equally_often():
    frozen = [(entry_id, entry_id) for entry_id in range(1, 11)]
    draws, winners = 10_000, 3
    counts = Counter(position for index in range(draws) for position in draw_order(seed_number(index), frozen, winners))
    assert chi_square(counts, 10, draws * winners / 10) < CHI2_CRITICAL_0001[9]


def test_the_frequency_test_catches_a_biased_draw():
    """The same statistic on a draw that favours the first entry by a fifth fails: the test above can fail."""
    draws = 20_000
    counts = Counter(draw_order(seed_number(index), [(e, e) for e in range(1, 21)], 1)[0] for index in range(draws))
    counts[0] += draws // 100  # 20 % more wins for entry 0, taken from the others
    for position in range(1, 20):
        counts[position] -= draws // 100 // 19
    assert chi_square(counts, 20, draws / 20) > CHI2_CRITICAL_0001[19]


def test_an_entry_counts_once_per_chance_a_daily_entrant_has_more_chances():
    """Person 1 entered on three days, persons 2 and 3 once: person 1 wins about 3 draws in 5."""
    frozen = [(1, 1), (2, 1), (3, 1), (4, 2), (5, 3)]
    draws = 10_000
    wins = Counter(frozen[draw_order(seed_number(index), frozen, 1)[0]][1] for index in range(draws))
    assert abs(wins[1] / draws - 0.6) < 0.02
