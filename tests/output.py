"""What every test of operator-facing output checks: no traceback, ever (plain or Rich-boxed)."""

from __future__ import annotations

from typing import Any

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "Traceback", "╭─", "File \"/")


def assert_no_traceback(*outputs: Any) -> None:
    """Each output (a string, or a CliRunner result whose stdout and stderr are both checked) shows no traceback."""
    for output in outputs:
        texts = [output] if isinstance(output, str) else [output.stdout, output.stderr]
        for text in texts:
            for marker in TRACEBACK_MARKERS:
                assert marker not in text, f"a traceback reached the operator ({marker!r}):\n{text}"


def one_line_error(result: Any) -> str:
    """The single line a failed command printed on stderr (log lines, JSON, aside), after checking there is one."""
    assert_no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if line.startswith("teamsretention:")]
    assert len(lines) == 1, result.stderr
    return lines[0]
