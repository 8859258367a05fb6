"""A series' numbers as the text around their digits, where the pattern is that simple."""

from __future__ import annotations

import pytest

from accounting.services.numbering import NumberParts, number_parts


@pytest.mark.parametrize(
    ("pattern", "parts"),
    [
        ("PV-{fy}-{seq:05}", NumberParts("PV-2026-", 5, "")),
        ("JV-{fy}-{seq:05d}", NumberParts("JV-2026-", 5, "")),
        ("{seq}", NumberParts("", 0, "")),
        ("{seq:d}/{fy}", NumberParts("", 0, "/2026")),
        ("{{literal}} {fy:>6} {seq:03}", NumberParts("{literal}   2026 ", 3, "")),
    ],
)
def test_a_plain_or_zero_padded_sequence_is_text_around_digits(pattern, parts):
    assert number_parts(pattern, "2026") == parts
    for sequence in (1, 99, 100_000, 1_234_567_890):
        assert parts.format(sequence) == pattern.format(fy="2026", seq=sequence)


@pytest.mark.parametrize(
    "pattern",
    ["{seq:>6}", "{seq:,}", "{seq!r}", "{seq}-{seq}", "{fy}", "{other}{seq}", "{fy[0]}{seq}", "{"],
)
def test_any_other_pattern_is_left_to_python(pattern):
    assert number_parts(pattern, "2026") is None
