"""Digests as organizers and fallback contacts read them: language, content, escaping, summaries."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from teamsretention.domain import Person
from teamsretention.notify import (
    DeletedItem,
    Digest,
    DigestItem,
    choose_digest_language,
    choose_language,
    render_digest,
)

CYCLE = dt.date(2025, 3, 7)  # a Friday
ANNA = Person(id="u-anna", display_name="Anna Svensson", upn="anna@contoso.se", mail="anna@contoso.se",
              preferred_language="sv-SE")
JOHN = Person(id="u-john", display_name="John Smith", upn="john@contoso.com", mail="john@contoso.com",
              preferred_language="en-GB")


def make_item(name: str, due: dt.date, *, recorded: dt.date = dt.date(2025, 2, 5), url: str | None = None,
              rule: str = "base_due", location: str = "OneDrive") -> DigestItem:
    return DigestItem(name=name, web_url=url, recorded_on=recorded, due=due, rule=rule,
                      reason="Recorded on 2025-02-05; the 30-day retention period ends.", location=location)


def make_digest(organizer: Person = ANNA, *, items: list[DigestItem] | None = None,
                deleted: list[DeletedItem] | None = None, fallback: bool = False,
                language: str | None = None, contact: str | None = "it-support@contoso.se",
                approvers: list[str] | None = None) -> Digest:
    return Digest(
        organizer=organizer,
        recipient_address="fallback@contoso.se" if fallback else (organizer.mail or ""),
        recipient_is_fallback=fallback,
        cycle_date=CYCLE,
        items=items if items is not None else [],
        deleted=deleted if deleted is not None else [],
        contact=contact,
        approvers=approvers if approvers is not None else ["dpo@contoso.se", "Per Admin"],
        language=language,
    )


TWO_ITEMS = [
    make_item("Budget Q2-20250210_140000UTC-Meeting Recording.mp4", dt.date(2025, 3, 14),
              recorded=dt.date(2025, 2, 10), location="Sales / General"),
    make_item("Sprint review-20250205_090000UTC-Meeting Recording.mp4", dt.date(2025, 3, 8),
              url="https://contoso-my.sharepoint.com/personal/anna/sprint.mp4?web=1&x=2", rule="promised"),
]


def visible_text(html: str) -> str:
    """What a mail client shows: the HTML's text content with entities decoded, scripts included."""
    parts: list[str] = []

    class Collector(HTMLParser):
        def handle_data(self, data: str) -> None:
            parts.append(data)

    Collector(convert_charrefs=True).feed(html)
    return re.sub(r"\s+", " ", "".join(parts))


def element_names(html: str) -> list[str]:
    names: list[str] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            names.append(tag)

    Collector().feed(html)
    return names


# --- language ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "default", "expected"),
    [
        ("sv-SE", "en", "sv"),
        ("sv", "en", "sv"),
        ("SV_fi", "en", "sv"),
        ("en-US", "sv", "en"),
        ("en-GB", "sv", "en"),
        ("en", "sv", "en"),
        ("de-DE", "sv", "sv"),
        ("de-DE", "en", "en"),
        (None, "en", "en"),
        ("", "sv", "sv"),
    ],
)
def test_choose_language_maps_preferred_language_or_falls_back_to_default(
        tag: str | None, default: str, expected: str) -> None:
    assert choose_language(Person(id="x", preferred_language=tag), default) == expected


def test_choose_language_refuses_an_unsupported_default() -> None:
    with pytest.raises(ValueError, match="sv, en"):
        choose_language(ANNA, "de")


def test_fallback_contact_gets_the_configured_language_not_the_organizers() -> None:
    digest = make_digest(JOHN, items=TWO_ITEMS, fallback=True)
    assert choose_digest_language(digest, "sv") == "sv"
    assert choose_digest_language(make_digest(JOHN, items=TWO_ITEMS), "sv") == "en"
    # The cycle may know the reader's own language better: an explicit tag wins.
    explicit = make_digest(JOHN, items=TWO_ITEMS, fallback=True, language="en-US")
    assert choose_digest_language(explicit, "sv") == "en"


def test_digest_is_written_in_the_organizers_language() -> None:
    swedish = render_digest(make_digest(ANNA, items=TWO_ITEMS), default_language="en")
    english = render_digest(make_digest(JOHN, items=TWO_ITEMS), default_language="sv")
    unknown = render_digest(make_digest(Person(id="u", display_name="Kari", mail="kari@contoso.no",
                                               preferred_language="nb-NO"), items=TWO_ITEMS),
                            default_language="sv")
    assert swedish.language == "sv" and "Hej Anna Svensson" in swedish.text
    assert english.language == "en" and "Hello John Smith" in english.text
    assert unknown.language == "sv" and "Hej Kari" in unknown.text


# --- content ---------------------------------------------------------------------------------------------


def test_swedish_digest_lists_recordings_by_deletion_date_with_swedish_dates() -> None:
    mail = render_digest(make_digest(ANNA, items=TWO_ITEMS), default_language="sv")

    assert mail.to == ["anna@contoso.se"]
    assert mail.subject == "2 Teams-inspelningar raderas från och med 2025-03-08"
    for body in (mail.text, visible_text(mail.html)):
        # Earliest deletion first, whatever order the cycle handed them over in.
        assert body.index("Sprint review") < body.index("Budget Q2")
        assert "2025-03-08 (lördag 8 mars)" in body
        assert "2025-03-14 (fredag 14 mars)" in body
        assert "2025-02-10 (måndag 10 februari)" in body  # the recorded date
        assert "Sales / General" in body
        # How to keep one, and whom to ask.
        assert "kunduppdrag" in body and "undantag" in body
        assert "dataskyddsombudet eller en IT-administratör" in body
        assert "it-support@contoso.se" in body and "dpo@contoso.se, Per Admin" in body
    assert "Raderas:  2025-03-08 (lördag 8 mars), i morgon" in mail.text
    assert "Länk:     https://contoso-my.sharepoint.com/personal/anna/sprint.mp4?web=1&x=2" in mail.text
    assert 'href="https://contoso-my.sharepoint.com/personal/anna/sprint.mp4?web=1&amp;x=2"' in mail.html
    assert '<html lang="sv">' in mail.html
    assert "Det datum vi redan har meddelat" in mail.text  # rule "promised" in Swedish words


def test_english_digest_lists_recordings_with_english_wording() -> None:
    mail = render_digest(make_digest(JOHN, items=TWO_ITEMS), default_language="sv")

    assert mail.to == ["john@contoso.com"]
    assert mail.subject == "2 Teams recordings will be deleted, starting 2025-03-08"
    for body in (mail.text, visible_text(mail.html)):
        assert body.index("Sprint review") < body.index("Budget Q2")
        assert "2025-03-14 (Friday 14 March)" in body
        assert "tagged to the assignment" in body and "Request an exemption" in body
        assert "data protection officer (DPO) or an IT administrator" in body
        assert "it-support@contoso.se" in body and "dpo@contoso.se, Per Admin" in body
    assert "Deletion date: 2025-03-08 (Saturday 8 March), tomorrow" in mail.text
    assert "Deletion date: 2025-03-14 (Friday 14 March), in 7 days" in mail.text
    assert '<html lang="en">' in mail.html


def test_subject_for_one_recording_names_its_date() -> None:
    item = [make_item("Kickoff.mp4", dt.date(2025, 3, 14))]
    assert render_digest(make_digest(ANNA, items=item), default_language="sv").subject == \
        "1 Teams-inspelning raderas 2025-03-14"
    assert render_digest(make_digest(JOHN, items=item), default_language="sv").subject == \
        "1 Teams recording will be deleted on 2025-03-14"


def test_without_contact_or_approvers_the_reader_is_sent_to_an_it_administrator() -> None:
    digest = make_digest(JOHN, items=TWO_ITEMS, contact=None, approvers=[])
    mail = render_digest(digest, default_language="sv")
    assert "Contact an IT administrator to tag a recording" in mail.text
    assert "Questions:" not in mail.text


# --- escaping and untrusted names -----------------------------------------------------------------


def test_script_in_a_recording_name_is_escaped_in_html() -> None:
    evil = make_item('<script>alert("x")</script>.mp4', dt.date(2025, 3, 10),
                     url='https://contoso.sharepoint.com/a"onmouseover="steal()')
    gone = DeletedItem('<img src=x onerror=alert(1)>.mp4', dt.date(2025, 3, 6), dt.date(2025, 6, 7))
    organizer = Person(id="u", display_name="<b>Eve</b>", mail=None, preferred_language="en")
    mail = render_digest(make_digest(organizer, items=[evil], deleted=[gone], fallback=True),
                         default_language="sv")

    assert "script" not in element_names(mail.html)
    assert "img" not in element_names(mail.html)
    assert "b" not in element_names(mail.html)
    assert "&lt;script&gt;" in mail.html
    assert 'onmouseover="steal()"' not in mail.html  # the quote in the URL cannot close the attribute
    # The reader still sees the name as it was written.
    assert '<script>alert("x")</script>.mp4' in visible_text(mail.html)
    assert "<b>Eve</b>" in visible_text(mail.html)


def test_only_web_links_become_links() -> None:
    item = make_item("Demo.mp4", dt.date(2025, 3, 10), url="javascript:alert(1)")
    mail = render_digest(make_digest(JOHN, items=[item]), default_language="en")
    assert "javascript:" not in mail.html and "javascript:" not in mail.text
    assert "Demo.mp4" in mail.text


def test_newlines_in_a_name_cannot_fake_lines_in_the_text_body() -> None:
    item = make_item("Demo\n   Deletion date: never\r\n.mp4", dt.date(2025, 3, 10))
    mail = render_digest(make_digest(JOHN, items=[item]), default_language="en")
    assert "Deletion date: never" in mail.text  # still shown, but on the name's own line
    assert not any(line.strip().startswith("Deletion date: never") for line in mail.text.splitlines())


# --- long digests ----------------------------------------------------------------------------------------


def test_long_digest_is_summarised_with_counts_per_deletion_date() -> None:
    # 60 recordings over 6 days, 10 a day, handed over in reverse order.
    items = [make_item(f"Meeting {n:02d}.mp4", dt.date(2025, 3, 10) + dt.timedelta(days=n // 10))
             for n in range(60)]
    mail = render_digest(make_digest(JOHN, items=list(reversed(items))), default_language="en", max_items=50)

    listed = re.findall(r"^\d+\. (Meeting \d\d\.mp4)$", mail.text, re.MULTILINE)
    assert listed == [f"Meeting {n:02d}.mp4" for n in range(50)]  # the 50 earliest, in order
    assert "… and 10 more recordings, the last due on 2025-03-15 (Saturday 15 March)." in mail.text
    assert "2025-03-15 (Saturday 15 March): 10 recordings" in mail.text
    assert mail.subject == "60 Teams recordings will be deleted, starting 2025-03-10"

    html_text = visible_text(mail.html)
    assert mail.html.count("<tr style=\"vertical-align:top") == 50
    assert "… and 10 more recordings, the last due on 2025-03-15 (Saturday 15 March)." in html_text
    assert "Meeting 50.mp4" not in html_text


def test_summary_counts_add_up_when_dates_are_uneven() -> None:
    dues = [dt.date(2025, 3, 10)] * 3 + [dt.date(2025, 3, 11)] * 2 + [dt.date(2025, 3, 20)] * 4
    items = [make_item(f"R{n}.mp4", due) for n, due in enumerate(dues)]
    mail = render_digest(make_digest(ANNA, items=items), default_language="sv", max_items=4)

    assert "… och 5 inspelningar till, den sista raderas 2025-03-20 (torsdag 20 mars)." in mail.text
    counts = dict(re.findall(r"^   (\d{4}-\d\d-\d\d) \([^)]*\): (\d+) inspelning", mail.text, re.MULTILINE))
    assert counts == {"2025-03-11": "1", "2025-03-20": "4"}
    assert len(re.findall(r"^\d+\. R\d\.mp4$", mail.text, re.MULTILINE)) == 4


def test_one_extra_recording_is_named_in_the_singular() -> None:
    items = [make_item(f"R{n}.mp4", dt.date(2025, 3, 10 + n)) for n in range(3)]
    mail = render_digest(make_digest(JOHN, items=items), default_language="en", max_items=2)
    assert "… and 1 more recording, due on 2025-03-12 (Wednesday 12 March)." in mail.text


def test_digest_within_the_limit_has_no_summary() -> None:
    mail = render_digest(make_digest(JOHN, items=TWO_ITEMS), default_language="en", max_items=2)
    assert "more recording" not in mail.text


# --- fallback contact --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("organizer", "sv_cause", "en_cause"),
    [
        (Person(id="u1", display_name="Bo Ek", upn="bo@contoso.se", mail=None), "saknar e-postlåda",
         "has no mailbox"),
        (Person(id="u2", display_name="Bo Ek", upn="bo@contoso.se", mail="bo@contoso.se",
                account_enabled=False),
         "har ett inaktiverat konto", "has a disabled account"),
        (Person(id="u3", display_name="Bo Ek", upn="bo@contoso.se", mail="bo@contoso.se"),
         "saknar e-postlåda eller har ett inaktiverat konto", "has no mailbox or a disabled account"),
    ],
)
def test_fallback_contact_is_told_on_whose_behalf(organizer: Person, sv_cause: str, en_cause: str) -> None:
    swedish = render_digest(make_digest(organizer, items=TWO_ITEMS, fallback=True), default_language="sv")
    english = render_digest(make_digest(organizer, items=TWO_ITEMS, fallback=True), default_language="en")

    assert swedish.to == ["fallback@contoso.se"]
    assert f"Du får det här meddelandet eftersom Bo Ek (bo@contoso.se) {sv_cause}." in swedish.text
    assert f"You are receiving this message because Bo Ek (bo@contoso.se) {en_cause}." in english.text
    assert f"because Bo Ek (bo@contoso.se) {en_cause}." in visible_text(english.html)
    assert swedish.subject.startswith("För Bo Ek: 2 Teams-inspelningar")
    assert english.subject.startswith("On behalf of Bo Ek: 2 Teams recordings")
    # The fallback contact did not organize the meetings: the body must not say "you organized".
    assert "that Bo Ek organized" in english.text and "that you organized" not in english.text
    assert "Hej Bo Ek" not in swedish.text


def test_organizer_digest_does_not_mention_a_fallback() -> None:
    mail = render_digest(make_digest(JOHN, items=TWO_ITEMS), default_language="en")
    assert "receiving this message because" not in mail.text
    assert "that you organized" in mail.text


# --- deletion receipts -----------------------------------------------------------------------------


def test_receipt_shows_the_restore_window_and_permanent_deletions() -> None:
    deleted = [
        DeletedItem("Retro.mp4", dt.date(2025, 3, 6), dt.date(2025, 6, 7)),
        DeletedItem("Old board meeting.mp4", dt.date(2025, 3, 5), None),
    ]
    english = render_digest(make_digest(JOHN, items=TWO_ITEMS, deleted=deleted), default_language="en")
    swedish = render_digest(make_digest(ANNA, items=TWO_ITEMS, deleted=deleted), default_language="sv")

    for body in (english.text, visible_text(english.html)):
        assert "Deleted since the last message".upper() in body.upper()
        assert "Deleted on 2025-03-06 (Thursday 6 March). Can be restored from the recycle bin until " \
               "2025-06-07 (Saturday 7 June)." in body
        assert ("Deleted on 2025-03-05 (Wednesday 5 March). "
                "The deletion is permanent and cannot be undone.") in body
    for body in (swedish.text, visible_text(swedish.html)):
        assert "Kan återställas från papperskorgen fram till 2025-06-07 (lördag 7 juni)." in body
        assert "Raderad 2025-03-05 (onsdag 5 mars). Raderingen är permanent och kan inte ångras." in body


def test_permanent_deletions_alone_promise_no_restore() -> None:
    deleted = [DeletedItem("Gone.mp4", dt.date(2025, 3, 6), None)]
    mail = render_digest(make_digest(JOHN, deleted=deleted), default_language="en")
    assert "cannot be undone" in mail.text
    assert "recycle bin" not in mail.text and "recycle bin" not in mail.html


def test_receipt_only_digest_has_a_receipt_subject_and_no_warning() -> None:
    deleted = [DeletedItem("Retro.mp4", dt.date(2025, 3, 6), dt.date(2025, 6, 7)),
               DeletedItem("Demo.mp4", dt.date(2025, 3, 6), dt.date(2025, 6, 7))]
    swedish = render_digest(make_digest(ANNA, deleted=deleted), default_language="sv")
    english = render_digest(make_digest(JOHN, deleted=deleted[:1]), default_language="sv")

    assert swedish.subject == "Kvitto: 2 Teams-inspelningar har raderats"
    assert english.subject == "Receipt: 1 Teams recording deleted"
    assert "INSPELNINGAR SOM RADERAS" not in swedish.text
    assert "HOW TO KEEP" not in english.text


def test_long_receipt_is_summarised_not_truncated() -> None:
    restorable = [DeletedItem(f"Old {n}.mp4", dt.date(2025, 3, 1), dt.date(2025, 6, 2)) for n in range(5)]
    hidden = [
        DeletedItem("Later a.mp4", dt.date(2025, 3, 3), dt.date(2025, 6, 4)),
        DeletedItem("Later b.mp4", dt.date(2025, 3, 2), dt.date(2025, 6, 3)),
        DeletedItem("Later c.mp4", dt.date(2025, 3, 4), None),
    ]
    mail = render_digest(make_digest(JOHN, deleted=hidden + restorable), default_language="en", max_items=5)

    assert re.findall(r"^ \* (\S+ \S+)$", mail.text, re.MULTILINE) == [f"Old {n}.mp4" for n in range(5)]
    line = ("… and 3 more deleted recordings, deleted between 2025-03-02 (Sunday 2 March) and "
            "2025-03-04 (Tuesday 4 March). "
            "The first of them can be restored until 2025-06-03 (Tuesday 3 June). "
            "1 of them was deleted permanently and cannot be restored.")
    assert line in mail.text
    assert line in visible_text(mail.html)


# --- refusals ------------------------------------------------------------------------------------------


def test_empty_digest_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        render_digest(make_digest(JOHN), default_language="en")


def test_max_items_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_items"):
        render_digest(make_digest(JOHN, items=TWO_ITEMS), default_language="en", max_items=0)
