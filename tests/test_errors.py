from core.errors import first_line


def test_first_line_of_an_error():
    assert first_line(ValueError("  bad value\n  at line 3\n")) == "bad value"
    assert first_line(KeyError()) == "KeyError"  # no message: its type, never an IndexError
    assert first_line(OSError("x" * 300), 200) == "x" * 200
    assert first_line(OSError("x" * 300)) == "x" * 300
