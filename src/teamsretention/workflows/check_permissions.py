"""What the enabled features need from Microsoft Graph, as application permissions (the token's ``roles``).

One row per need: the Graph calls the adapter (``graph/``) makes for it, the least-privileged application
permission Microsoft documents for those calls, and the higher ones that also satisfy it. Doc pages
(learn.microsoft.com/graph/api/..., section "Permissions", Application row):

- ``GET /users/delta``, ``GET /users/{id}``: user-delta, user-get: User.Read.All.
- ``GET /users/{id}/transitiveMemberOf`` (approver groups): user-list-transitivememberof: User.Read.All.
- ``GET /groups/delta`` (which groups are teams), ``GET /groups/{id}/transitiveMembers`` (scope.include_groups),
  ``GET /groups/{id}/owners`` (a channel recording's owners): group-delta, group-list-transitivemembers,
  group-list-owners: GroupMember.Read.All (Group.Read.All and Directory.Read.All are higher).
- ``GET /teams/{id}/channels``: channel-list: Channel.ReadBasic.All.
- ``GET /users/{id}/drive``, ``GET /groups/{id}/drive``, ``GET /drives/{id}/root/delta``,
  ``GET /teams/{id}/channels/{id}/filesFolder``, ``GET /shares/{token}/driveItem``,
  ``GET /drives/{d}/items/{i}?$expand=retentionLabel``: drive-get, driveitem-delta, channel-get-filesfolder,
  shares-get, driveitem-getretentionlabel: Files.Read.All (Sites.Read.All higher).
- ``DELETE /drives/{d}/items/{i}``, ``POST .../permanentDelete``: driveitem-delete, driveitem-permanentdelete:
  Files.ReadWrite.All (Sites.ReadWrite.All higher).
- ``GET /users/{id}/mailboxSettings``: user-get-mailboxsettings: MailboxSettings.Read.
- ``POST /users/{sender}/sendMail``: user-sendmail: Mail.Send.
- ``GET /sites/{host}:/{path}``, ``/sites/{id}/lists/{name}?$expand=columns``, list items delta and versions:
  site-get, list-get, listitem-delta, listitem-list-versions: Sites.Selected with a grant on the site
  (Sites.Read.All / Sites.ReadWrite.All tenant-wide are higher).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings

CONSENT = ("add it in Entra ID: App registrations -> the app -> API permissions -> Add a permission -> Microsoft "
           "Graph -> Application permissions -> {p}, then Grant admin consent")


@dataclass(frozen=True, slots=True)
class Need:
    feature: str  # inventory, deletion, mail, lists, group scope
    purpose: str
    least: str  # the least-privileged application permission
    also: tuple[str, ...] = ()  # higher ones that satisfy it too
    required: bool = True  # False: the product works without it, with less (said in `fix`)
    note: str = ""  # what goes with granting it (a grant on a site, a mailbox scope)

    def met_by(self, roles: frozenset[str]) -> str | None:
        return next((p for p in (self.least, *self.also) if p in roles), None)


def exchange_rbac_commands(sender: str) -> str:
    """Exchange Online RBAC for Applications: Mail.Send for the sender mailbox only (Exchange Online PowerShell)."""
    return ("Exchange RBAC for Applications, the sender mailbox only (Exchange Online PowerShell, "
            "Connect-ExchangeOnline): New-ServicePrincipal -AppId <client-id> -ObjectId <enterprise-app-object-id> "
            "-DisplayName teamsretention; New-ManagementScope -Name teamsretention-sender -RecipientRestrictionFilter "
            f"\"PrimarySmtpAddress -eq '{sender}'\"; New-ManagementRoleAssignment -App <client-id> -Role "
            "\"Application Mail.Send\" -CustomResourceScope teamsretention-sender")


def needs_for(settings: Settings) -> list[Need]:
    """What the configured features need, in the order they are reported."""
    p, sc, n = settings.policy, settings.scope, settings.notifications
    needs = [Need("inventory", "list users in scope (users delta) and read approvers' groups", "User.Read.All",
                  ("Directory.Read.All",))]
    if sc.channel_sites:
        needs.append(Need("inventory", "find the teams (groups delta) and read a team's owners",
                          "GroupMember.Read.All", ("Group.Read.All", "Directory.Read.All")))
        needs.append(Need("inventory", "list a team's channels (private and shared channel sites)",
                          "Channel.ReadBasic.All", ("ChannelSettings.Read.All", "Group.Read.All")))
    if sc.include_groups:
        needs.append(Need("group scope", "resolve scope.include_groups (transitive members)", "GroupMember.Read.All",
                          ("Group.Read.All", "Directory.Read.All")))
    if p.enforce:
        needs.append(Need("deletion", "read drives with delta, re-read items with their retention labels and "
                          "delete recordings (policy.enforce = true)", "Files.ReadWrite.All",
                          ("Sites.ReadWrite.All", "Sites.FullControl.All")))
    else:
        needs.append(Need("inventory", "read drives with delta and items with their retention labels (plan only: "
                          "policy.enforce = false; deleting needs Files.ReadWrite.All)", "Files.Read.All",
                          ("Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All")))
    if n.sender:
        needs.append(Need("mail", f"send digests from notifications.sender {n.sender}", "Mail.Send",
                          note=exchange_rbac_commands(n.sender)))
        needs.append(Need("mail", "tell an organizer with a mailbox from one without (mailboxSettings)",
                          "MailboxSettings.Read", ("MailboxSettings.ReadWrite",), required=False,
                          note="without it every digest also goes to notifications.fallback_contact"))
    if settings.lists.site:
        needs.append(Need("lists", f"read the lists in lists.site {settings.lists.site}", "Sites.Selected",
                          ("Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"),
                          note=f"then grant the app the role write on {settings.lists.site} (README, \"Least "
                          "privilege for the lists\": New-MgSitePermission or POST /sites/{site-id}/permissions)"))
    return needs


def fix_for(need: Need) -> str:
    """The exact fix for a missing permission: the least-privileged choice, how to add it, what goes with it."""
    if need.least == "Mail.Send":
        # The Exchange assignment is not in the token's roles: the test mail is what proves it.
        return (f"least privilege: grant it with {need.note}; then prove it with `teamsretention check "
                "--send-test-mail ADDRESS` (the token carries no Mail.Send then). Or tenant-wide: "
                + CONSENT.format(p="Mail.Send"))
    fix = CONSENT.format(p=need.least)
    return f"{fix}; {need.note}" if need.note else fix
