import time

import pytest

from crews.user_patterns import MAX_LENGTH, PatternError, compile_user_pattern


@pytest.mark.timeout(30)
def test_a_pattern_that_backtracks_for_minutes_in_python_runs_in_linear_time():
    pattern = compile_user_pattern(r"^(.|.|.|.)*X$")  # Python's re took over 90 s on a 17-character value
    started = time.monotonic()
    assert pattern.match("a" * 5_000 + "@example.com") is None
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("(", "missing )"), ("(?<=a)b", "look-arounds and back-references are not supported"),
     (r"(a)\1", "invalid escape sequence"),
     ("(a{999}){999}", "invalid repetition size"), ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}")],
    ids=["unbalanced", "look_behind", "back_reference", "too_large", "too_long"],
)
def test_patterns_re2_cannot_run_are_refused_naming_why(pattern, reason):
    with pytest.raises(PatternError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        compile_user_pattern(pattern)


def test_case_and_the_re_api():
    pattern = compile_user_pattern(r"ipx\d", ignore_case=True)
    assert pattern.search("rated IPX4").group(0) == "IPX4"
    assert compile_user_pattern(r"ipx\d").search("rated IPX4") is None
    assert compile_user_pattern(r"^SKU-[0-9]{5}$").match("SKU-00042")
