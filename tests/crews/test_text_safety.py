import pytest

from crews.text_safety import control_character_problem, refuse_control_characters


def test_ordinary_text_tabs_line_breaks_and_emoji_pass():
    text = "Up to 30 hours\tof battery 🔋\r\nin 3 colours — £49 · naïve café"
    assert refuse_control_characters(text) == text


@pytest.mark.parametrize(
    ("char", "named"),
    [("\x00", "U+0000"), ("\x1b", "U+001B"), ("\x7f", "U+007F"), ("\x85", "U+0085"),
     ("\u202e", "U+202E (right-to-left override)"), ("\u2066", "U+2066 (left-to-right isolate)")],
)
def test_control_characters_and_bidi_overrides_are_named_with_their_place(char, named):
    problem = control_character_problem(f"abc{char}def")
    assert problem.startswith(f"contains {named}") and "at character 4" in problem
    with pytest.raises(ValueError, match="control characters and bidirectional overrides are not allowed"):
        refuse_control_characters(f"abc{char}def")
