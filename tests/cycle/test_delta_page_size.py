"""``graph.delta_page_size``: a drive read from scratch asks Graph for large delta pages (``$top``). However Graph
answers it (the page size honoured or not, kept in its links or not), the cycle finds the same recordings, warns
the same organizers and leaves every drive complete; honoured, it costs fewer requests and fewer resource units."""

from __future__ import annotations

from typing import Any

import pytest

from teamsretention.store import recordings

from .simworld import SimWorld

SCENARIO = "".join(f"""
[[recordings]]
key = "r{n:02d}"
organizer = "{('anna', 'bob')[n % 2]}"
subject = "Review {n:02d}"
age_days = {5 + n}
""" for n in range(30))


def _first_cycle(tmp_path: Any, name: str, page_size: int | None, **knobs: bool) -> SimWorld:
    w = SimWorld(tmp_path / name, SCENARIO)
    w.model.knobs.update({"page_size": 4, **knobs})
    w.delta_page_size = page_size
    w.cycle(0)
    return w


@pytest.mark.parametrize(("honours", "keeps"), [(True, True), (True, False), (False, True)],
                         ids=["honoured-kept", "honoured-first-page-only", "ignored"])
def test_large_delta_pages_find_the_same_recordings_whatever_graph_does_with_top(tmp_path, honours, keeps):
    plain = _first_cycle(tmp_path, "plain", None)
    paged = _first_cycle(tmp_path, "paged", 50, delta_honours_top=honours, delta_links_keep_top=keeps)

    def seen(w: SimWorld) -> list[tuple[str, str | None]]:
        return sorted((r.name, r.action.value if r.action else None) for r in recordings.list_all(w.db))

    assert len(seen(paged)) == 30 and seen(paged) == seen(plain)
    assert paged.reports[0].inventory.drives_incomplete == plain.reports[0].inventory.drives_incomplete == []
    assert paged.reports[0].warned == plain.reports[0].warned > 0
    pages = paged.model.requests.count("drive.delta")
    if honours:
        assert pages < plain.model.requests.count("drive.delta")
        assert paged.model.requests.total_ru < plain.model.requests.total_ru
    else:
        assert pages == plain.model.requests.count("drive.delta")
    paged.model.requests.reset()
    paged.cycle(1)  # the stored deltaLinks replay as Graph gave them
    assert paged.reports[1].inventory.drives_incomplete == [] and len(seen(paged)) == 30
