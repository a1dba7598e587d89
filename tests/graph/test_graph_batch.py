"""Label reads through Graph JSON $batch: the exact request, and each inner answer handled as a single GET's."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from graph_fakes import GRAPH, FakeClock, graph_error

from teamsretention.domain import LabelStatus, Person, RecordingRef
from teamsretention.errors import GraphError, LockedError, NotFoundError, TransientGraphError
from teamsretention.graph import MsGraphGateway
from teamsretention.ports import ItemState

pytestmark = pytest.mark.anyio

DRIVE = "b!t18F8ybsHUq1z3LTz8xvZqP8zaSWjkFNhsME-Fepo75dTf9vQKfeRblBZjoSQrd7"
BATCH = f"{GRAPH}/$batch"


def ref(n: int) -> RecordingRef:
    return RecordingRef(DRIVE, f"01REC{n:03d}")


def item(r: RecordingRef, *, label: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": r.item_id, "name": "Weekly sync-20240402_090000UTC-Meeting Recording.mp4",
        "eTag": f"\"{{{r.item_id}}},3\"", "file": {"mimeType": "video/mp4"},
        "parentReference": {"driveId": DRIVE, "id": "01RECFOLDER", "path": f"/drives/{DRIVE}/root:/Recordings"}}
    if label is not None:
        body["retentionLabel"] = label
    return body


def ok(rid: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": rid, "status": 200, "headers": {"Content-Type": "application/json"}, "body": body}


def failed(rid: str, status: int, code: str, message: str, **headers: str) -> dict[str, Any]:
    return {"id": rid, "status": status, "headers": {"Content-Type": "application/json", **headers},
            "body": graph_error(code, message)}


def sent(route: respx.Route) -> list[list[dict[str, Any]]]:
    return [json.loads(call.request.content)["requests"] for call in route.calls]


async def test_one_post_carries_the_rereads_and_each_answer_is_read_as_the_single_get_would(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    refs = [ref(1), ref(2), ref(3), ref(4)]
    hold = {"name": "Legal 7y", "retentionSettings": {"isDeleteAllowed": False, "behaviorDuringRetentionPeriod":
                                                      "retain"}}
    route = graph.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": [  # any order, by id
        failed("3", 423, "resourceLocked", "The resource you are attempting to access is locked."),
        ok("1", item(refs[0], label=hold)),
        failed("2", 404, "itemNotFound", "The resource could not be found."),
        {"id": "4", "status": 200, "headers": {}},  # an empty 200 is no proof the item is gone
    ]}))

    answers = await gateway.get_items_with_labels(refs)

    assert route.call_count == 1
    request = route.calls[0].request
    assert str(request.url) == BATCH
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"requests": [
        {"id": str(n), "method": "GET", "url": f"/drives/{DRIVE}/items/01REC00{n}?$expand=retentionLabel"}
        for n in (1, 2, 3, 4)]}
    first = answers[refs[0]]
    assert isinstance(first, ItemState) and first.etag == "\"{01REC001},3\""
    assert first.label.status is LabelStatus.PRESENT and first.label.is_delete_allowed is False
    assert first.parent_path == f"/drives/{DRIVE}/root:/Recordings"
    assert answers[refs[1]] is None  # gone, as a single GET's 404
    locked = answers[refs[2]]
    assert isinstance(locked, LockedError) and locked.code == "resourceLocked"
    assert isinstance(answers[refs[3]], GraphError) and answers[refs[3]].code == "malformedResponse"


async def test_more_than_twenty_reads_go_out_in_batches_of_twenty(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        inner = json.loads(request.content)["requests"]
        return httpx.Response(200, json={"responses": [
            ok(r["id"], item(RecordingRef(DRIVE, r["url"].split("/items/")[1].split("?")[0]))) for r in inner]})

    route = graph.post(BATCH).mock(side_effect=answer)
    refs = [ref(n) for n in range(45)]
    answers = await gateway.get_items_with_labels(refs)

    assert sorted(len(batch) for batch in sent(route)) == [5, 20, 20]
    assert list(answers) == refs and all(isinstance(a, ItemState) for a in answers.values())


async def test_an_inner_429_pauses_the_whole_client_for_its_retry_after_and_is_sent_again_alone(
        gateway: MsGraphGateway, graph: respx.MockRouter, clock: FakeClock) -> None:
    refs = [ref(1), ref(2)]
    route = graph.post(BATCH).mock(side_effect=[
        httpx.Response(200, json={"responses": [
            ok("1", item(refs[0])), failed("2", 429, "TooManyRequests", "Please retry again later.", **{
                "Retry-After": "12"})]}),
        httpx.Response(200, json={"responses": [ok("1", item(refs[1]))]}),
    ])

    answers = await gateway.get_items_with_labels(refs)

    assert [[r["url"] for r in batch] for batch in sent(route)] == [
        [f"/drives/{DRIVE}/items/01REC001?$expand=retentionLabel", f"/drives/{DRIVE}/items/01REC002?$expand=retentionLabel"],
        [f"/drives/{DRIVE}/items/01REC002?$expand=retentionLabel"]]
    assert clock.slept == [12.0]  # the throttle gate held the next request for the Retry-After
    assert all(isinstance(a, ItemState) for a in answers.values())


async def test_an_inner_request_still_throttled_after_the_retries_fails_alone(
        gateway: MsGraphGateway, graph: respx.MockRouter, clock: FakeClock) -> None:
    refs = [ref(1), ref(2)]

    def answer(request: httpx.Request) -> httpx.Response:
        inner = json.loads(request.content)["requests"]
        return httpx.Response(200, json={"responses": [
            failed(r["id"], 503, "serviceNotAvailable", "Retry later.") if "01REC002" in r["url"] else
            ok(r["id"], item(refs[0])) for r in inner]})

    route = graph.post(BATCH).mock(side_effect=answer)
    answers = await gateway.get_items_with_labels(refs)

    assert route.call_count == 4  # the first send and three retries, as kiota retries a single GET
    assert isinstance(answers[refs[0]], ItemState)
    still = answers[refs[1]]
    assert isinstance(still, TransientGraphError) and still.status == 503 and still.code == "serviceNotAvailable"
    assert clock.slept == [2.0, 2.0, 2.0]  # no Retry-After: the gate's own short pause each time


async def test_a_batch_throttled_as_a_whole_with_424_is_sent_again_after_a_pause(
        gateway: MsGraphGateway, graph: respx.MockRouter, clock: FakeClock) -> None:
    refs = [ref(1)]
    route = graph.post(BATCH).mock(side_effect=[
        httpx.Response(424, json=graph_error("failedDependency", "A request in the batch was throttled."),
                       headers={"Retry-After": "5"}),
        httpx.Response(200, json={"responses": [ok("1", item(refs[0]))]}),
    ])
    answers = await gateway.get_items_with_labels(refs)
    assert route.call_count == 2 and clock.slept == [5.0]
    assert isinstance(answers[refs[0]], ItemState)


async def test_a_batch_graph_refuses_fails_every_read_it_carried(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    refs = [ref(1), ref(2)]
    route = graph.post(BATCH).mock(return_value=httpx.Response(
        400, json=graph_error("BadRequest", "Invalid batch payload.")))
    answers = await gateway.get_items_with_labels(refs)
    assert route.call_count == 1
    assert all(isinstance(a, GraphError) and a.status == 400 and a.code == "BadRequest" for a in answers.values())


async def test_a_batch_answered_404_as_a_whole_fails_every_read_and_says_no_item_is_gone(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    """A 404 of the POST (a proxy, a wrong endpoint) is about the batch, not about the items it carried: no read
    is taken for "gone", no user for "has no OneDrive", no mailbox for "none"; each is a failed request."""
    graph.post(BATCH).mock(return_value=httpx.Response(404, json=graph_error("itemNotFound", "Not found.")))
    refs = [ref(1), ref(2)]

    reads = await gateway.get_items_with_labels(refs)
    drives = await gateway.get_user_drives([Person(id="u-1"), Person(id="u-2")])
    mailboxes = await gateway.have_mailboxes(["u-1"])

    for answer in (*reads.values(), *drives.values(), *mailboxes.values()):
        assert isinstance(answer, GraphError) and not isinstance(answer, NotFoundError)
        assert answer.status == 404 and "the $batch request carrying it failed" in answer.message


async def test_an_empty_object_for_a_onedrive_is_a_malformed_answer_not_a_user_without_one(
        gateway: MsGraphGateway, graph: respx.MockRouter) -> None:
    graph.post(BATCH).mock(return_value=httpx.Response(200, json={"responses": [
        ok("1", {}), {"id": "2", "status": 200, "headers": {}}]}))

    found = await gateway.get_user_drives([Person(id="u-1"), Person(id="u-2")])

    assert isinstance(found["u-1"], GraphError)  # {} has no id: looked up again next cycle, not "none" for a week
    assert found["u-2"] is None  # no body at all, as a single GET's empty answer
