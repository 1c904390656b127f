"""Filling Qt-style placeholders of translated text."""

from desktop.core.i18n import fill


def test_placeholders_are_filled_in_any_order() -> None:
    assert fill("%1 of %2 files", 3, 10) == "3 of 10 files"
    assert fill("共 %2 个文件中的第 %1 个", 3, 10) == "共 10 个文件中的第 3 个"


def test_a_value_containing_a_placeholder_is_not_filled_again() -> None:
    assert fill("Skipped in %1 (%2)", "100%2 done", 7) == "Skipped in 100%2 done (7)"
    assert fill("%2 and %1", "%2", "x") == "x and %2"


def test_missing_values_leave_the_placeholder_and_ten_is_not_one() -> None:
    assert fill("%1 %2", "a") == "a %2"
    assert fill("%10 vs %1", *"abcdefghij") == "j vs a"
