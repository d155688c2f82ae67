"""The 5 x 5 segment grid: every cell maps to exactly one named segment."""

import pytest

from webapp.domain import rfm


def test_every_cell_of_the_grid_has_exactly_one_segment():
    assert set(rfm.SEGMENT_GRID) == {(r, fm) for r in range(1, 6) for fm in range(1, 6)}
    assert set(rfm.SEGMENT_GRID.values()) == set(rfm.SEGMENTS)
    assert len(rfm.SEGMENTS) == 11


@pytest.mark.parametrize(
    "r,fm,segment",
    [
        (5, 5, "champions"),
        (5, 4, "champions"),
        (4, 5, "champions"),
        (4, 4, "loyal"),
        (3, 4, "loyal"),
        (3, 5, "loyal"),
        (5, 2, "potential_loyalists"),
        (5, 3, "potential_loyalists"),
        (4, 2, "potential_loyalists"),
        (4, 3, "potential_loyalists"),
        (5, 1, "new"),
        (4, 1, "promising"),
        (3, 3, "need_attention"),
        (3, 1, "about_to_sleep"),
        (3, 2, "about_to_sleep"),
        (2, 3, "at_risk"),
        (2, 4, "at_risk"),
        (1, 3, "at_risk"),
        (2, 5, "cant_lose_them"),
        (1, 4, "cant_lose_them"),
        (1, 5, "cant_lose_them"),
        (2, 1, "hibernating"),
        (2, 2, "hibernating"),
        (1, 1, "lost"),
        (1, 2, "lost"),
    ],
)
def test_each_of_the_25_cells(r, fm, segment):
    assert rfm.SEGMENT_GRID[(r, fm)] == segment


@pytest.mark.parametrize("f,m,fm", [(1, 1, 1), (1, 2, 2), (2, 3, 3), (4, 5, 5), (5, 5, 5), (3, 4, 4), (1, 5, 3)])
def test_fm_is_the_mean_rounded_half_up(f, m, fm):
    assert rfm.fm_score(f, m) == fm


@pytest.mark.parametrize(
    "value,safe", [("=SUM(A1)", "'=SUM(A1)"), ("+33", "'+33"), ("-2", "'-2"), ("@x", "'@x"), ("C001", "C001"), (12, 12)]
)
def test_export_cells_are_safe_against_formula_injection(value, safe):
    assert rfm.safe_cell(value) == safe
