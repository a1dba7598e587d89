"""``[logging] personal_data = false``: the logs of whole cycles against a simulated tenant carry ids and rule
codes, and no organizer's name or address and no recording's title, whatever happened (deletions, a refused
deletion, a failed and an undeliverable digest, a label that could not be read, a drive whose scan failed, a
video kept as unsure). With ``true`` the same cycles do name them, so the scan below can fail."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from teamsretention.logging import clear_secrets, configure_logging
from teamsretention.simulator.knobs import FailRule

from .simworld import SimWorld, no_retry_delay

SCENARIO = """
[knobs]
locked_items = { "vendor" = { until_day = 60 } }
failing_mail_recipients = { "bob@contoso.example" = 400 }

[[users]]
key = "dan"
display_name = "Dan Consultant"
mail = ""

[[users]]
key = "cecilia"
display_name = "Cecilia Ek"

[[teams]]
key = "sales"
display_name = "Sales"
members = ["anna", "bob"]
owners = ["bob"]
channels = [{ name = "General" }]

[[recordings]]
key = "old"
organizer = "anna"
subject = "Quarterly review with Falcon AB"
age_days = 40

[[recordings]]
key = "vendor"
organizer = "anna"
subject = "Vendor call Hawk Ltd"
age_days = 40

[[recordings]]
key = "unreadable"
organizer = "anna"
subject = "Salary talk Eriksson"
age_days = 40

[[recordings]]
key = "budget"
organizer = "bob"
subject = "Budget talk Osprey"
age_days = 40

[[recordings]]
key = "consultant"
organizer = "dan"
subject = "Consultant handover Kestrel"
age_days = 40

[[recordings]]
key = "channel"
organizer = "anna"
channel = "sales/General"
subject = "Pipeline review Merlin"
age_days = 38

[[recordings]]
key = "incomplete"
organizer = "cecilia"
subject = "Performance review Lindqvist"
age_days = 39

[[files]]
key = "holiday"
owner = "anna"
folder = "Recordings"
name = "Holiday clip Mallorca.mp4"
mime_type = "video/mp4"
age_days = 50
"""


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    no_retry_delay(monkeypatch)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    clear_secrets()


def governed_month(tmp_path: Any, *, personal_data: bool) -> tuple[str, SimWorld]:
    """A week of enforcing cycles, every log line captured at debug level (library lines included)."""
    out = io.StringIO()
    configure_logging("debug", json=True, stream=out, personal_data=personal_data)
    w = SimWorld(tmp_path, SCENARIO, fallback_contact=None)
    # Faults with ids known only once the tenant exists: a label that cannot be read, a drive that fails.
    unreadable = w.key("unreadable")
    cecilia = next(u for u in w.model.users.values() if u.display_name == "Cecilia Ek")
    w.model.knobs.fail_paths = [FailRule(pattern=unreadable, status=500, method="GET"),
                                FailRule(pattern=f"{cecilia.drive_id}.*delta", status=500)]
    for day in (0, 6, 7, 8):
        w.cycle(day)
    return out.getvalue(), w


def personal_strings(w: SimWorld) -> list[str]:
    found = []
    for user in w.model.users.values():
        found += [user.display_name, user.upn, *([user.mail] if user.mail else [])]
    for drive in w.model.drives.values():
        for item in drive.items.values():
            if not item.is_folder and item.name:
                found += [item.name, item.name.split("-")[0].removesuffix(".mp4")]  # the title alone too
    return sorted({s for s in found if s and s not in {"root", "Recordings", "General"}})


def test_without_personal_data_no_name_title_or_address_reaches_the_logs(tmp_path):
    text, w = governed_month(tmp_path, personal_data=False)
    # What happened is all there, by id and rule:
    events = text.lower()
    for event in ("recording.deleted", "recording.delete_blocked", "digest.sent", "digest.failed",
                  "digest.undeliverable", "label.read_failed", "drive.incomplete", "cycle.summary",
                  "recording.decision"):
        assert event in events, f"{event} was not logged: the scan would prove nothing"
    assert '"organizer_id"' in text and '"recording_id"' in text and '"rule"' in text
    leaks = [s for s in personal_strings(w) if s.lower() in events]
    assert leaks == []


def test_with_personal_data_the_same_lines_name_recording_organizer_and_recipient(tmp_path):
    text, w = governed_month(tmp_path, personal_data=True)
    named = [s for s in personal_strings(w) if s in text]
    for expected in ("Anna Berg", "anna@contoso.example", "Bob Smith", "Quarterly review with Falcon AB",
                     "Vendor call Hawk Ltd", "Salary talk Eriksson", "Holiday clip Mallorca.mp4"):
        assert expected in named
