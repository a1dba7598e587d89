"""Links in mails lead only to the tenant's own SharePoint and OneDrive: a recording whose webUrl points
anywhere else is still named in the digest, without the link, and the dropped link is logged."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from teamsretention.endpoints import tenant_link_problem

from .test_cycle import World, created

OURS = "https://contoso-my.sharepoint.com/personal/alice_contoso_example/Documents/Recordings/board.mp4"
PHISH = "https://evil.example/login?next=recording"
OTHER_TENANT = "https://fabrikam.sharepoint.com/sites/Sales/Recordings/pitch.mp4"


def test_a_digest_links_only_to_the_tenants_own_hosts(tmp_path):
    w = World(tmp_path, sharepoint_tenant="contoso")
    w.gw.add_user("alice", lang="en-US")
    for item, url in (("r1", OURS), ("r2", PHISH), ("r3", OTHER_TENANT)):
        w.gw.add_recording("alice", item, created(-23), name=f"Board {item}-20260207_100000-Meeting Recording.mp4",
                           web_url=url)
    with capture_logs() as logs:
        w.cycle(0)
    [mail] = w.mails_to("alice@contoso.example")
    for part in (mail.text, mail.html):
        assert OURS in part and "evil.example" not in part and "fabrikam" not in part
        assert all(f"Board {item}" in part for item in ("r1", "r2", "r3"))  # every recording is still named
    dropped = sorted((e["recording_id"], e["problem"]) for e in logs if e["event"] == "digest.link_dropped")
    assert dropped == [("drive-alice/r2", "evil.example is not one of the tenant's hosts "
                                          "(contoso-my.sharepoint.com, contoso.sharepoint.com)"),
                       ("drive-alice/r3", "fabrikam.sharepoint.com is not one of the tenant's hosts "
                                          "(contoso-my.sharepoint.com, contoso.sharepoint.com)")]
    w.db.dispose()


@pytest.mark.parametrize(("url", "cloud", "tenant", "allowed"), [
    (OURS, "global", "contoso", True),
    ("https://contoso.sharepoint.com/sites/Team/Recordings/x.mp4", "global", "contoso", True),
    (OTHER_TENANT, "global", "contoso", False),
    (OTHER_TENANT, "global", None, True),  # no tenant name configured: the cloud's SharePoint domain
    (PHISH, "global", None, False),
    ("http://contoso.sharepoint.com/x.mp4", "global", "contoso", False),  # not https
    ("https://contoso.sharepoint.com.evil.example/x.mp4", "global", "contoso", False),
    ("https://user@contoso.sharepoint.com/x.mp4", "global", "contoso", False),
    ("https://contoso.sharepoint.us/x.mp4", "usgov", "contoso", True),
    ("https://contoso.sharepoint.com/x.mp4", "usgov", "contoso", False),  # another cloud's host
    ("https://contoso-my.sharepoint-mil.us/x.mp4", "usgov-dod", "contoso", True),
    ("https://contoso.sharepoint.cn/x.mp4", "china", None, True),
])
def test_which_links_a_mail_may_carry(url, cloud, tenant, allowed):
    assert (tenant_link_problem(url, cloud, tenant) is None) is allowed
