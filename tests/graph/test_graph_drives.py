"""Drive delta, labels, the re-read and deletes against pinned Graph requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
import structlog.testing
from graph_fakes import GRAPH, TOKEN, USER_AGENT, FakeClock, graph_error

from teamsretention.domain import LabelStatus
from teamsretention.errors import (
    ForbiddenError,
    GraphError,
    LockedError,
    NotFoundError,
    PreconditionFailed,
    TransientGraphError,
)
from teamsretention.graph import MsGraphGateway

pytestmark = pytest.mark.anyio

DRIVE = "b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME-Fepo75dTf9vQKfeRblBZjoSQrd7"
DELTA = f"{GRAPH}/drives/{DRIVE}/root/delta"
ORGANIZER = "efee1b77-fb3b-4f65-99d6-274c11914d12"


def root_item() -> dict[str, Any]:
    return {"id": "01ROOT", "name": "root", "root": {}, "folder": {"childCount": 1},
            "eTag": "\"{11111111-0000-0000-0000-000000000000},1\"",
            "parentReference": {"driveId": DRIVE, "driveType": "business"}}


def recordings_folder() -> dict[str, Any]:
    return {"id": "01RECFOLDER", "name": "Recordings", "folder": {"childCount": 1},
            "createdDateTime": "2024-04-01T08:00:00Z",
            "parentReference": {"driveId": DRIVE, "driveType": "business", "id": "01ROOT"}}


def recording(item_id: str = "01REC", *, etag_version: int = 1, facets: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "name": "Weekly sync-20240402_090000UTC-Meeting Recording.mp4",
        "eTag": f"\"{{0F5A7C1E-2B3D-4E5F-8A9B-0C1D2E3F4A5B}},{etag_version}\"",
        "cTag": "\"c:{0F5A7C1E-2B3D-4E5F-8A9B-0C1D2E3F4A5B},2\"",
        "createdDateTime": "2024-04-02T09:31:12.6580555Z",
        "lastModifiedDateTime": "2024-04-02T10:02:00Z",
        "webUrl": "https://contoso-my.sharepoint.com/personal/ryan/Documents/Recordings/x.mp4",
        "size": 73400320,
        "parentReference": {"driveId": DRIVE, "driveType": "business", "id": "01RECFOLDER"},
        "createdBy": {"user": {"id": ORGANIZER, "displayName": "Ryan Gregg"}},
        "file": {"mimeType": "video/mp4"},
    }
    if facets:
        item["source"] = {"application": "teams"}
        item["media"] = {"mediaSource": {"contentCategory": "meeting"}}
    return item


async def collect(pages: Any) -> list[Any]:
    return [page async for page in pages]


async def test_delta_follows_next_link_then_replays_delta_link_once_for_an_unchanged_drive(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    next_link = f"{GRAPH}/drives/{DRIVE}/root/delta?$skiptoken=page2"
    delta_link = f"{GRAPH}/drives/{DRIVE}/root/delta?token=MzslMjM0OyUy"
    first = graph.get(url__eq=DELTA).respond(200, json={
        "@odata.context": f"{GRAPH}/$metadata#Collection(driveItem)",
        "value": [root_item(), recordings_folder()], "@odata.nextLink": next_link})
    second = graph.get(url__eq=next_link).respond(200, json={"value": [recording()], "@odata.deltaLink": delta_link})

    pages = await collect(gateway.drive_delta(DRIVE, None))

    assert [page.reset for page in pages] == [True, False]
    assert [page.delta_link for page in pages] == [None, delta_link]
    assert [item.id for page in pages for item in page.items] == ["01ROOT", "01RECFOLDER", "01REC"]
    assert pages[0].items[0].is_root and pages[0].items[1].is_folder
    assert pages[0].items[1].parent_id == "01ROOT"
    assert first.call_count == 1 and second.call_count == 1

    new_link = f"{GRAPH}/drives/{DRIVE}/root/delta?token=NEXT"
    unchanged = graph.get(url__eq=delta_link).respond(200, json={"value": [], "@odata.deltaLink": new_link})
    again = await collect(gateway.drive_delta(DRIVE, delta_link))

    assert len(again) == 1 and again[0].items == [] and again[0].delta_link == new_link
    assert not again[0].reset
    assert unchanged.call_count == 1 and first.call_count == 1  # one request, no re-enumeration
    sent = unchanged.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["User-Agent"] == USER_AGENT


async def test_a_page_with_a_next_link_does_not_end_the_feed_even_when_it_also_carries_a_delta_link(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    """Graph documents one or the other; a page with both is followed, and only the page that ends the feed
    hands its deltaLink on (the caller stores the link, and marks the drive complete, with that page)."""
    next_link = f"{GRAPH}/drives/{DRIVE}/root/delta?$skiptoken=page2"
    early_link = f"{GRAPH}/drives/{DRIVE}/root/delta?token=EARLY"
    delta_link = f"{GRAPH}/drives/{DRIVE}/root/delta?token=LAST"
    graph.get(url__eq=DELTA).respond(200, json={"value": [root_item(), recordings_folder()],
                                                "@odata.nextLink": next_link, "@odata.deltaLink": early_link})
    graph.get(url__eq=next_link).respond(200, json={"value": [recording()], "@odata.deltaLink": delta_link})

    pages = await collect(gateway.drive_delta(DRIVE, None))

    assert [page.delta_link for page in pages] == [None, delta_link]
    assert [item.id for page in pages for item in page.items] == ["01ROOT", "01RECFOLDER", "01REC"]


async def test_recording_fields_and_media_source_come_from_additional_data(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=DELTA).respond(200, json={"value": [recording(), recording("01PLAIN", facets=False)],
                                        "@odata.deltaLink": f"{DELTA}?token=1"})

    [page] = await collect(gateway.drive_delta(DRIVE, None))
    rec, plain = page.items

    assert rec.source_application == "teams" and rec.content_category == "meeting"
    assert rec.name == "Weekly sync-20240402_090000UTC-Meeting Recording.mp4"
    assert rec.mime_type == "video/mp4" and rec.size == 73400320
    assert rec.etag == "\"{0F5A7C1E-2B3D-4E5F-8A9B-0C1D2E3F4A5B},1\""
    assert rec.created_by_id == ORGANIZER and rec.parent_id == "01RECFOLDER"
    assert rec.created_at is not None and rec.created_at.utcoffset() is not None
    assert rec.created_at.isoformat().startswith("2024-04-02T09:31:12")
    # Without the facets (knob delta_media_facets off) the fallback signals are still there.
    assert plain.source_application is None and plain.content_category is None
    assert plain.mime_type == "video/mp4" and plain.parent_id == "01RECFOLDER"


async def test_deleted_items_without_name_and_repeated_items_keep_their_last_state(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=DELTA).respond(200, json={"value": [
        recording("01REC", etag_version=1),
        {"id": "01GONE", "deleted": {}, "parentReference": {"driveId": DRIVE, "id": "01RECFOLDER"}},
        recording("01REC", etag_version=3),
    ], "@odata.deltaLink": f"{DELTA}?token=1"})

    [page] = await collect(gateway.drive_delta(DRIVE, None))
    by_id = {item.id: item for item in page.items}

    assert len(page.items) == 2
    assert by_id["01GONE"].deleted and by_id["01GONE"].name is None
    assert by_id["01GONE"].parent_id == "01RECFOLDER"
    assert not by_id["01REC"].deleted and by_id["01REC"].etag is not None
    assert by_id["01REC"].etag.endswith(",3\"")


async def test_expired_token_resyncs_from_location_and_marks_reset(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    stale = f"{DELTA}?token=EXPIRED"
    fresh = f"{DELTA}?token=RESTART"
    graph.get(url__eq=stale).respond(410, headers={"Location": fresh}, json=graph_error(
        "resyncRequired", "Resync required. Replace any local items with the server's version."))
    restart = graph.get(url__eq=fresh).respond(200, json={"value": [root_item()], "@odata.deltaLink": f"{DELTA}?token=2"})

    pages = await collect(gateway.drive_delta(DRIVE, stale))

    assert restart.call_count == 1
    assert len(pages) == 1 and pages[0].reset
    assert pages[0].delta_link == f"{DELTA}?token=2"


async def test_expired_token_without_location_restarts_tokenless(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    stale = f"{DELTA}?token=EXPIRED"
    graph.get(url__eq=stale).respond(410, json=graph_error("resyncRequired", "Resync required."))
    tokenless = graph.get(url__eq=DELTA).respond(200, json={"value": [], "@odata.deltaLink": f"{DELTA}?token=3"})

    pages = await collect(gateway.drive_delta(DRIVE, stale))

    assert tokenless.call_count == 1 and pages[0].reset


async def test_a_document_name_only_the_standard_library_reads_does_not_leave_the_drive_unread(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    """A file name with a lone UTF-16 surrogate (NTFS allows one; JSON escapes it as ``\\ud800``) is JSON that
    orjson refuses: the page is read all the same, its recording listed and the document known by id."""
    document = {"id": "01DOC", "name": "notes\ud800.docx", "file": {"mimeType": "application/msword"},
                "parentReference": {"driveId": DRIVE, "driveType": "business", "id": "01ROOT"}}
    body = json.dumps({"value": [root_item(), recordings_folder(), recording(), document],
                       "@odata.deltaLink": f"{DELTA}?token=T"})
    assert "\\ud800" in body  # escaped, as Graph would send it
    graph.get(url__eq=DELTA).respond(200, content=body.encode(), headers={"Content-Type": "application/json"})

    (page,) = await collect(gateway.drive_delta(DRIVE, None, videos_only=True))

    assert [item.id for item in page.items] == ["01ROOT", "01RECFOLDER", "01REC"]
    assert page.others == ("01DOC",) and page.delta_link == f"{DELTA}?token=T"


async def test_a_page_that_is_not_json_fails_as_a_malformed_answer(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=DELTA).respond(200, content=b'{"value": [', headers={"Content-Type": "application/json"})

    with pytest.raises(GraphError, match="not JSON"):
        await collect(gateway.drive_delta(DRIVE, None))


async def test_a_page_without_any_link_fails_instead_of_looking_complete(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=DELTA).respond(200, json={"value": [recording()]})

    with pytest.raises(GraphError, match="neither"):
        await collect(gateway.drive_delta(DRIVE, None))


async def test_next_link_to_another_host_is_refused_and_gets_no_token(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=DELTA).respond(200, json={"value": [], "@odata.nextLink": "https://evil.example/v1.0/steal"})
    evil = graph.get(url__eq="https://evil.example/v1.0/steal").respond(200, json={"value": []})

    with pytest.raises(GraphError, match="another host"):
        await collect(gateway.drive_delta(DRIVE, None))
    assert evil.call_count == 0


async def test_next_links_that_lead_back_stop_the_feed_as_unfinished(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    page_b = f"{DELTA}?token=B"
    first = graph.get(url__eq=DELTA).respond(200, json={"value": [recording()], "@odata.nextLink": page_b})
    graph.get(url__eq=page_b).respond(200, json={"value": [], "@odata.nextLink": DELTA})  # A -> B -> A

    with pytest.raises(GraphError, match="lead back to a page already read") as caught:
        await collect(gateway.drive_delta(DRIVE, None))
    assert caught.value.code == "pagingLoop" and first.call_count == 1


async def test_group_member_pages_that_lead_back_are_refused(gateway: MsGraphGateway,
                                                             graph: respx.MockRouter) -> None:
    cast = f"{GRAPH}/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$count=true"
    page_b = f"{cast}&$skiptoken=B"
    graph.get(url__eq=cast).respond(200, json={"value": [{"id": "u-1"}], "@odata.nextLink": page_b})
    graph.get(url__eq=page_b).respond(200, json={"value": [{"id": "u-2"}], "@odata.nextLink": cast})

    with pytest.raises(GraphError, match="lead back"):
        await gateway.group_member_ids("g1")


async def test_throttled_page_waits_retry_after_for_the_whole_client_then_succeeds(
        gateway: MsGraphGateway, graph: respx.MockRouter, no_retry_delay: list[int], clock: FakeClock) -> None:
    route = graph.get(url__eq=DELTA)
    route.side_effect = [
        httpx.Response(429, headers={"Retry-After": "2.128"}, json=graph_error("TooManyRequests",
                                                                               "Please retry again later.")),
        httpx.Response(200, json={"value": [recording()], "@odata.deltaLink": f"{DELTA}?token=1"}),
    ]

    with structlog.testing.capture_logs() as logs:
        [page] = await collect(gateway.drive_delta(DRIVE, None))

    assert [item.id for item in page.items] == ["01REC"]
    assert route.call_count == 2 and no_retry_delay == [429]
    assert [(e["event"], e["status"], e["path"]) for e in logs] == [
        ("graph_throttled", 429, f"/v1.0/drives/{DRIVE}/root/delta")]
    assert TOKEN not in repr(logs)
    # The decimal Retry-After of Graph's documented sample (kiota cannot parse it) is honoured.
    assert clock.slept == [pytest.approx(2.128)]


async def test_throttling_that_outlasts_the_retries_raises_transient_with_retry_after(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.get(url__eq=DELTA).respond(503, headers={"Retry-After": "7"},
                                     json=graph_error("serviceNotAvailable", "Service unavailable"))

    with pytest.raises(TransientGraphError) as caught:
        await collect(gateway.drive_delta(DRIVE, None))

    assert route.call_count == 4  # the first attempt and three retries
    assert caught.value.code == "serviceNotAvailable" and caught.value.retry_after == 7


# --- labels and the re-read -------------------------------------------------------------------------

ITEM = f"{GRAPH}/drives/{DRIVE}/items/01REC"
BLOCKING_LABEL = {
    "name": "Retention label for Contracts",
    "retentionSettings": {"behaviorDuringRetentionPeriod": "retain", "isDeleteAllowed": False,
                          "isRecordLocked": False, "isMetadataUpdateAllowed": False,
                          "isContentUpdateAllowed": False, "isLabelUpdateAllowed": False},
    "isLabelAppliedExplicitly": False,
    "labelAppliedDateTime": "2022-12-22T10:18:23.6580555+00:00",
    "labelAppliedBy": {"user": {"id": "56d171c8-a92e-4359-9c4a-38b88ac7eabd", "displayName": "Contoso Admin"}},
}


async def test_reread_returns_etag_and_blocking_label_in_one_request(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.get(url__eq=f"{ITEM}?$expand=retentionLabel").respond(
        200, json={**recording(etag_version=4), "retentionLabel": BLOCKING_LABEL})

    state = await gateway.reread_item(DRIVE, "01REC")

    assert route.call_count == 1
    assert state is not None and state.etag is not None and state.etag.endswith(",4\"")
    assert state.label.status is LabelStatus.PRESENT and state.label.blocks_deletion
    assert state.label.name == "Retention label for Contracts" and state.label.behavior == "retain"


@pytest.mark.parametrize("label_json", [
    {"retentionLabel": {"name": None}},  # knob unlabelled_label = "empty"
    {},  # knob unlabelled_label = "absent"
])
async def test_reread_of_an_unlabelled_item_reads_none(
        gateway: MsGraphGateway, graph: respx.MockRouter, label_json: dict[str, Any]) -> None:
    graph.get(url__eq=f"{ITEM}?$expand=retentionLabel").respond(200, json={**recording(), **label_json})

    state = await gateway.reread_item(DRIVE, "01REC")

    assert state is not None and state.label.status is LabelStatus.NONE
    assert not state.label.blocks_deletion


async def test_reread_of_a_vanished_item_is_none(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=f"{ITEM}?$expand=retentionLabel").respond(
        404, json=graph_error("itemNotFound", "The resource could not be found."))

    assert await gateway.reread_item(DRIVE, "01REC") is None


@pytest.mark.parametrize(("label", "blocks"), [
    ({"name": "Unclear", "retentionSettings": {}}, True),  # settings that say nothing
    ({"name": "Future", "retentionSettings": {"behaviorDuringRetentionPeriod": "unknownFutureValue",
                                              "isDeleteAllowed": True}}, True),
    ({"name": "No settings"}, True),
    ({"name": "Short", "retentionSettings": {"behaviorDuringRetentionPeriod": "doNotRetain",
                                             "isDeleteAllowed": True, "isRecordLocked": False}}, False),
    ({"name": None, "retentionSettings": None}, False),  # the unlabelled answer
])
async def test_only_a_label_that_clearly_allows_deletion_lets_it_be_deleted(
        gateway: MsGraphGateway, graph: respx.MockRouter, label: dict[str, object], blocks: bool) -> None:
    graph.get(url__eq=f"{ITEM}?$expand=retentionLabel").respond(200, json={**recording(), "retentionLabel": label})
    state = await gateway.reread_item(DRIVE, "01REC")
    assert state is not None and state.label.blocks_deletion is blocks


# --- deletes ------------------------------------------------------------------------------------------

ETAG = "\"{0F5A7C1E-2B3D-4E5F-8A9B-0C1D2E3F4A5B},1\""


async def test_recycle_delete_sends_if_match(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.delete(url__eq=ITEM).respond(204)

    await gateway.delete_item(DRIVE, "01REC", ETAG, permanent=False)

    request = route.calls.last.request
    assert request.headers["If-Match"] == ETAG
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_recycle_delete_without_etag_is_refused_before_any_request(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.delete(url__eq=ITEM).respond(204)

    with pytest.raises(PreconditionFailed):
        await gateway.delete_item(DRIVE, "01REC", None, permanent=False)
    assert route.call_count == 0


async def test_permanent_delete_posts_without_if_match(gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    route = graph.post(url__eq=f"{ITEM}/permanentDelete").respond(204)

    await gateway.delete_item(DRIVE, "01REC", ETAG, permanent=True)

    assert route.call_count == 1
    assert "If-Match" not in route.calls.last.request.headers


@pytest.mark.parametrize("permanent", [False, True])
async def test_a_delete_answered_504_or_429_is_not_sent_again_by_the_gateway(
        gateway: MsGraphGateway, graph: respx.MockRouter, permanent: bool) -> None:
    # A retried 504 may come back 404 after Graph did delete: the caller would record the wrong deleter.
    route = graph.post(url__eq=f"{ITEM}/permanentDelete") if permanent else graph.delete(url__eq=ITEM)
    route.respond(504, json=graph_error("gatewayTimeout", "The gateway timed out"))
    with pytest.raises(TransientGraphError) as caught:
        await gateway.delete_item(DRIVE, "01REC", ETAG, permanent=permanent)
    assert route.call_count == 1 and caught.value.outcome_unknown

    # A 429 was refused before it was processed, and the pause that follows makes the read before it old: the
    # delete step reads the item again before sending the delete again, so the gateway does not.
    route.reset()
    route.side_effect = [httpx.Response(429, headers={"Retry-After": "1"},
                                        json=graph_error("TooManyRequests", "slow down")), httpx.Response(204)]
    with pytest.raises(TransientGraphError) as caught:
        await gateway.delete_item(DRIVE, "01REC", ETAG, permanent=permanent)
    assert route.call_count == 1
    assert caught.value.status == 429 and not caught.value.outcome_unknown


@pytest.mark.parametrize(("status", "code", "message", "error_type"), [
    (404, "itemNotFound", "The resource could not be found.", NotFoundError),
    (423, "resourceLocked", "The resource you are attempting to access is locked", LockedError),
    (403, "accessDenied", "Item cannot be deleted because of a retention label.", ForbiddenError),
    (412, "resourceModified", "ETag does not match current item's value", PreconditionFailed),
])
@pytest.mark.parametrize("permanent", [False, True])
async def test_delete_errors_carry_graph_code_and_message(
        gateway: MsGraphGateway, graph: respx.MockRouter, status: int, code: str, message: str,
        error_type: type[GraphError], permanent: bool) -> None:
    route = graph.post(url__eq=f"{ITEM}/permanentDelete") if permanent else graph.delete(url__eq=ITEM)
    route.respond(status, json=graph_error(code, message))

    with pytest.raises(error_type) as caught:
        await gateway.delete_item(DRIVE, "01REC", ETAG, permanent=permanent)

    assert (caught.value.status, caught.value.code, caught.value.message) == (status, code, message)
    assert route.call_count == 1  # blocked deletes are not hammered
    assert TOKEN not in str(caught.value)


async def test_a_stored_link_for_another_endpoint_restarts_enumeration(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    tokenless = graph.get(url__eq=DELTA).respond(200, json={"value": [], "@odata.deltaLink": f"{DELTA}?token=4"})

    pages = await collect(gateway.drive_delta(DRIVE, f"http://127.0.0.1:8765/v1.0/drives/{DRIVE}/root/delta?token=1"))

    assert tokenless.call_count == 1 and pages[0].reset


def other_file(item_id: str, name: str, mime: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": item_id, "name": name, "size": 1200,
                            "parentReference": {"driveId": DRIVE, "driveType": "business", "id": "01ROOT"},
                            "createdDateTime": "2024-04-02T09:31:12Z"}
    if mime is not None:
        item["file"] = {"mimeType": mime}
    return item


async def test_the_cycle_reads_only_ids_of_files_that_are_no_video(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    """A OneDrive holds hundreds of documents for each recording: with videos_only they come back by id only,
    a video is recognised by its MIME type or its .mp4 name, and the last state of a repeated item wins."""
    renamed = {**recording("01RENAMED"), "name": "notes.txt", "file": {"mimeType": "text/plain"}}
    graph.get(url__eq=DELTA).respond(200, json={"value": [
        root_item(), recordings_folder(), other_file("01DOC", "Budget.xlsx", "application/vnd.ms-excel"),
        recording("01RENAMED"), other_file("01MOV", "clip.MP4", None), other_file("01MKV", "talk.mkv", "video/x-mkv"),
        {"id": "01GONE", "deleted": {}, "parentReference": {"driveId": DRIVE, "id": "01RECFOLDER"}},
        renamed, other_file("01BACK", "draft.txt", "text/plain"), {**recording("01BACK")},
    ], "@odata.deltaLink": f"{DELTA}?token=1"})

    [page] = await collect(gateway.drive_delta(DRIVE, None, videos_only=True))
    [everything] = await collect(gateway.drive_delta(DRIVE, None))

    assert [i.id for i in page.items] == ["01ROOT", "01RECFOLDER", "01MOV", "01MKV", "01GONE", "01BACK"]
    assert page.others == ("01DOC", "01RENAMED")
    back = next(i for i in page.items if i.id == "01BACK")
    assert back.mime_type == "video/mp4" and back.created_at is not None
    assert [i.id for i in everything.items] == ["01ROOT", "01RECFOLDER", "01DOC", "01MOV", "01MKV", "01GONE",
                                                "01RENAMED", "01BACK"]
    assert everything.others == ()


async def test_a_file_without_an_id_fails_the_page_even_when_it_is_no_video(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.get(url__eq=DELTA).respond(200, json={"value": [{"name": "Budget.xlsx", "file": {"mimeType": "text/csv"}}],
                                                "@odata.deltaLink": f"{DELTA}?token=1"})
    with pytest.raises(GraphError) as caught:
        await collect(gateway.drive_delta(DRIVE, None, videos_only=True))
    assert caught.value.status == 200 and "no id" in str(caught.value)


@pytest.mark.parametrize("permanent", [False, True])
@pytest.mark.parametrize("status", [301, 302, 303, 307])
async def test_a_delete_answered_with_a_redirect_is_not_followed_nor_taken_for_done(
        gateway: MsGraphGateway, graph: respx.MockRouter, permanent: bool, status: int) -> None:
    """kiota's redirect handler would turn a 302/303 into a GET, whose 200 would read as "deleted"."""
    elsewhere = graph.route(url__eq=f"{GRAPH}/elsewhere").respond(200, json={"id": "01REC"})
    route = graph.post(url__eq=f"{ITEM}/permanentDelete") if permanent else graph.delete(url__eq=ITEM)
    route.respond(status, headers={"Location": f"{GRAPH}/elsewhere"})

    with pytest.raises(GraphError) as caught:
        await gateway.delete_item(DRIVE, "01REC", None if permanent else ETAG, permanent)

    assert caught.value.status == status and not caught.value.outcome_unknown
    assert route.call_count == 1 and elsewhere.call_count == 0


@pytest.mark.parametrize("location", [f"{GRAPH}/elsewhere", "https://attacker.example/v1.0/x", "ftp://odd/place"])
async def test_a_read_answered_with_a_redirect_fails_closed_and_goes_nowhere(
        gateway: MsGraphGateway, graph: respx.MockRouter, location: str) -> None:
    """Graph's JSON answers are never redirects: one is not followed (to this host or another, nor to a Location
    kiota could not follow), and the re-read fails instead of answering for another resource."""
    route = graph.get(url__eq=f"{ITEM}?$expand=retentionLabel").respond(302, headers={"Location": location})
    anywhere = graph.route(url__regex=r"(elsewhere|attacker|odd)").respond(200, json={"id": "01OTHER"})
    with pytest.raises(GraphError) as caught:
        await gateway.reread_item(DRIVE, "01REC")
    assert caught.value.status == 302 and route.call_count == 1 and anywhere.call_count == 0


@pytest.fixture
async def paged_gateway(graph: respx.MockRouter, credential: Any, clock: FakeClock) -> Any:
    """The gateway as ``graph.delta_page_size = 1000`` builds it."""
    from teamsretention.graph import ThrottleGate, build_gateway

    gw = build_gateway(GRAPH, credential, user_agent=USER_AGENT, max_concurrency=4, http_client=httpx.AsyncClient(),
                       gate=ThrottleGate(4, clock=clock, sleep=clock.sleep), delta_page_size=1000)
    yield gw
    await gw.aclose()


@pytest.mark.parametrize("links_keep_top", [True, False], ids=["links-keep-top", "links-drop-top"])
async def test_a_full_enumeration_asks_for_large_pages_and_follows_graphs_links_as_given(
        paged_gateway: MsGraphGateway, graph: respx.MockRouter, links_keep_top: bool) -> None:
    """Only the first request of a full enumeration carries ``$top``: Graph's nextLink and deltaLink are followed
    exactly as Graph wrote them, whether they keep the ``$top`` or not (the docs do not say), and a stored
    deltaLink is replayed as stored."""
    keep = "&$top=1000" if links_keep_top else ""
    next_link = f"{DELTA}?token=PAGE2{keep}"
    delta_link = f"{DELTA}?token=DONE{keep}"
    first = graph.get(url__eq=f"{DELTA}?$top=1000").respond(200, json={
        "value": [root_item(), recordings_folder()], "@odata.nextLink": next_link})
    second = graph.get(url__eq=next_link).respond(200, json={"value": [recording()], "@odata.deltaLink": delta_link})

    pages = await collect(paged_gateway.drive_delta(DRIVE, None))

    assert first.call_count == 1 and second.call_count == 1
    assert [item.id for page in pages for item in page.items] == ["01ROOT", "01RECFOLDER", "01REC"]
    assert pages[-1].delta_link == delta_link
    later = graph.get(url__eq=delta_link).respond(200, json={"value": [], "@odata.deltaLink": delta_link})
    again = await collect(paged_gateway.drive_delta(DRIVE, delta_link))
    assert later.call_count == 1 and not again[0].reset and first.call_count == 1


async def test_a_resync_without_location_asks_for_large_pages_again(
        paged_gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    stale = f"{DELTA}?token=EXPIRED"
    graph.get(url__eq=stale).respond(410, json=graph_error("resyncRequired", "Resync required."))
    tokenless = graph.get(url__eq=f"{DELTA}?$top=1000").respond(200, json={
        "value": [], "@odata.deltaLink": f"{DELTA}?token=3"})

    pages = await collect(paged_gateway.drive_delta(DRIVE, stale))

    assert tokenless.call_count == 1 and pages[0].reset
