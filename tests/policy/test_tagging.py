"""Tag rules (pure): a code is read from the meeting subject or the file name, exactly as written."""

from __future__ import annotations

from teamsretention.policy.tagging import compile_rules, find_code, meeting_subject

RULES = compile_rules([r"\[(?P<code>[A-Z]+-\d+)\]", r"^(?P<code>[A-Z]{2,}-\d{4})\b"])


def test_the_subject_of_a_teams_file_name_yields_the_code():
    name = "[ACME-0042] Kickoff-20261101_100000-Meeting Recording.mp4"
    assert meeting_subject(name) == "[ACME-0042] Kickoff"
    found = find_code(RULES, name)
    assert found is not None and (found.code, found.matched_in) == ("ACME-0042", "subject")
    assert found.pattern == r"\[(?P<code>[A-Z]+-\d+)\]"


def test_the_first_matching_rule_wins_and_no_match_yields_nothing():
    assert find_code(RULES, "BETA-1234 planning-20261101_100000-Meeting Recording.mp4").code == "BETA-1234"
    assert find_code(RULES, "Weekly sync-20261101_100000-Meeting Recording.mp4") is None
    assert find_code(compile_rules([r"(?P<code>X)?sync"]), "Weekly sync.mp4") is None  # an empty code is none


def test_a_code_is_never_corrected_or_completed():
    found = find_code(RULES, "[acme-42] lower case.mp4")
    assert found is None  # the rule wants upper case: nothing is guessed
    assert find_code(RULES, "[ACME-42] Review.mp4").code == "ACME-42"  # as written, not padded to ACME-0042


def test_a_name_without_the_teams_pattern_is_read_without_its_extension():
    assert meeting_subject("[ACME-0042] notes.mp4") == "[ACME-0042] notes"
