"""tests/csdl.py itself: path resolution, inherited properties, open types, and the object checks."""

from __future__ import annotations

import re

import pytest

from .. import csdl


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/users/{id}/drive", "microsoft.graph.drive"),
        ("/drives/{id}/root/delta", "Collection(microsoft.graph.driveItem)"),
        ("/drives/{id}/root/delta(token='abc')", "Collection(microsoft.graph.driveItem)"),
        ("/groups/{id}/transitiveMembers/microsoft.graph.user", "Collection(microsoft.graph.user)"),
        ("/groups/{id}/transitiveMembers", "Collection(microsoft.graph.directoryObject)"),
        ("/teams/{id}/channels/{id}/filesFolder", "microsoft.graph.driveItem"),
        ("/users/{id}/sendMail", csdl.VOID),
        ("/drives/{id}/items/{id}/permanentDelete", csdl.VOID),
        ("/drives/{id}/items/{id}/retentionLabel", "microsoft.graph.itemRetentionLabel"),
        ("/shares/{id}/driveItem", "microsoft.graph.driveItem"),
        ("/shares/{id}/site", "microsoft.graph.site"),
        ("/sites/{id}/drive", "microsoft.graph.drive"),
        ("/users/{id}/mailboxSettings", "microsoft.graph.mailboxSettings"),
        ("/groups/{id}/owners", "Collection(microsoft.graph.directoryObject)"),
        ("/users/delta", "Collection(microsoft.graph.user)"),
        ("https://graph.microsoft.com/v1.0/users('x')/drive?$select=id", "microsoft.graph.drive"),
        ("/me/drive/root", "microsoft.graph.driveItem"),
        ("/users/{id}/transitiveMembers", None),  # users have transitiveMemberOf, not transitiveMembers
        ("/drives/{id}/items/{id}/media", None),  # not a v1.0 driveItem property
        ("/users/{id}/sendMail/more", None),  # an action's result cannot be composed
        ("/nonsense/{id}", None),
    ],
)
def test_resolve_path(path: str, expected: str | None) -> None:
    assert csdl.resolve_path(path) == expected


def test_properties_inherit_and_open_types_are_flagged() -> None:
    item = csdl.properties("driveItem")
    assert item["id"] == "Edm.String" and item["createdDateTime"] == "Edm.DateTimeOffset"  # entity, baseItem
    assert item["size"] == "Edm.Int64" and "media" not in item and "source" not in item
    assert csdl.navigation("driveItem")["retentionLabel"] == "microsoft.graph.itemRetentionLabel"
    assert csdl.is_open("driveItem") and csdl.is_open("user") and not csdl.is_open("drive")
    label = csdl.properties("retentionLabelSettings")
    assert label["behaviorDuringRetentionPeriod"] == "microsoft.graph.security.behaviorDuringRetentionPeriod"
    assert csdl.schema() is csdl.schema()  # parsed once


def test_check_object_enums_nullability_and_derived_types() -> None:
    assert csdl.check_object("channel", {"displayName": None}) == [
        "channel.displayName: null, but Edm.String is declared Nullable=false"
    ]
    shared = csdl.check_object("channel", {"membershipType": "shared"})
    assert len(shared) == 1 and "evolvable" in shared[0]
    assert csdl.check_object("channel", {"membershipType": "shared"}, include_unknown_enum_members=True) == []
    assert "not a member" in csdl.check_object("channel", {"membershipType": "secret"})[0]
    user = {"@odata.type": "#microsoft.graph.user", "id": "x", "userPrincipalName": "a@b", "@removed": {}}
    assert csdl.check_object("directoryObject", user) == []
    assert re.search(r"is not a microsoft\.graph\.directoryObject", csdl.check_object(
        "directoryObject", {"@odata.type": "#microsoft.graph.driveItem"}
    )[0])
