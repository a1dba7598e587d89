"""``provision``: create the Assignments and Retention requests lists in ``[lists] site``, or check them.

Idempotent: a list that exists is checked, never recreated. A missing column is added (nothing reads it yet, so
adding it cannot change what a list already says). A column that exists with the wrong type, single-line text
where links need several lines, or without one of the choices the cycle reads, is reported and left alone:
changing a column's type in SharePoint can convert or lose what people already entered, so an owner of the
site decides. Never opens or creates the state database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError, GraphError
from ..lists import SCHEMAS, Column, ColumnKind, ListSchema
from ..ports import GraphGateway, ListColumnInfo, ListInfo, SiteInfo

SITE_KEY = "lists.site"
# What each kind is called in SharePoint's column settings, for messages an owner can act on.
KIND_WORDS = {
    ColumnKind.TEXT: "Single line of text",
    ColumnKind.NOTE: "Multiple lines of text (plain text)",
    ColumnKind.CHOICE: "Choice",
    ColumnKind.DATE: "Date and time (date only)",
}
GRAPH_KIND = {ColumnKind.TEXT: "text", ColumnKind.NOTE: "text", ColumnKind.CHOICE: "choice",
              ColumnKind.DATE: "dateTime"}


@dataclass(frozen=True, slots=True)
class ListTarget:
    schema: ListSchema
    display_name: str  # from settings ([lists] assignments / requests)


@dataclass(slots=True)
class ListOutcome:
    target: ListTarget
    web_url: str = ""
    created: bool = False
    added: list[str] = field(default_factory=list)  # columns added to an existing list
    problems: list[str] = field(default_factory=list)  # columns an owner must fix

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added)


@dataclass(slots=True)
class ProvisionReport:
    site: SiteInfo
    lists: list[ListOutcome]

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.lists)

    @property
    def problems(self) -> list[str]:
        return [p for o in self.lists for p in o.problems]


def targets(assignments: str, requests: str) -> list[ListTarget]:
    names = {"assignments": assignments, "requests": requests}
    return [ListTarget(schema, names[schema.key]) for schema in SCHEMAS]


def require_site(site: str | None) -> str:
    """``[lists] site``, or a ConfigError naming the key (raised before any Graph call)."""
    if not site:
        raise ConfigError(f"{SITE_KEY} is not set: name the SharePoint site the lists go in, with site = "
                          "\"https://contoso.sharepoint.com/sites/records\" under [lists] in the configuration file, "
                          "or TEAMSRETENTION_LISTS__SITE; nothing was created")
    return site


async def provision(gateway: GraphGateway, site: str | None, lists: list[ListTarget], *,
                    site_source: str = "the configuration") -> ProvisionReport:
    """Raises ConfigError when ``site`` is unset or names no site; GraphError when Graph refuses."""
    site = require_site(site)
    found = await gateway.get_site(site)
    if found is None:
        raise ConfigError(f"{SITE_KEY} = {site!r} ({site_source}): Graph knows no such site (404). Check the URL, "
                          "and that the app may read it (Sites.Selected granted on that site, or Sites.ReadWrite.All); "
                          "nothing was created")
    report = ProvisionReport(found, [])
    for target in lists:
        report.lists.append(await _provision_one(gateway, found, target))
    return report


async def _provision_one(gateway: GraphGateway, site: SiteInfo, target: ListTarget) -> ListOutcome:
    outcome = ListOutcome(target)
    existing = await gateway.get_list(site.id, target.display_name)
    if existing is None:
        created = await gateway.create_list(site.id, target.display_name, target.schema.columns)
        outcome.created, outcome.web_url = True, created.web_url
        return outcome
    outcome.web_url = existing.web_url
    for column in target.schema.columns:
        present = _find(existing, column)
        if present is None:
            await _add(gateway, site, existing, column)
            outcome.added.append(column.name)
            continue
        problem = column_problem(column, present)
        if problem:
            outcome.problems.append(f"list {target.display_name!r}, column {column.name!r} "
                                    f"({present.display_name!r}): {problem}")
    return outcome


async def _add(gateway: GraphGateway, site: SiteInfo, existing: ListInfo, column: Column) -> None:
    try:
        await gateway.add_list_column(site.id, existing.id, column)
    except GraphError as exc:
        raise GraphError(exc.status, exc.code, f"adding column {column.name!r} to list {existing.display_name!r} "
                         f"failed: {exc.message}") from exc


def _find(existing: ListInfo, column: Column) -> ListColumnInfo | None:
    return next((c for c in existing.columns if c.name == column.name), None)


def column_problem(column: Column, present: ListColumnInfo) -> str | None:
    """Why ``present`` cannot hold what the cycle reads from ``column``; None when it can."""
    should = f"it should be {KIND_WORDS[column.kind]}"
    if present.read_only:
        return f"it is read-only; {should}"
    if present.kind != GRAPH_KIND[column.kind]:
        return f"it is a {present.kind} column; {should}"
    if column.kind is ColumnKind.NOTE and not present.multiline:
        return f"it is Single line of text (at most 255 characters); {should}"
    missing = [c for c in column.choices if c not in present.choices]
    if missing:
        return (f"the choice{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                f"{'are' if len(missing) > 1 else 'is'} missing; it should offer {', '.join(column.choices)}")
    return None


def report_lines(report: ProvisionReport) -> list[str]:
    """What ``provision`` prints: per list what happened and where it is; then whether anything changed."""
    lines = [f"Site: {report.site.display_name or report.site.web_url} ({report.site.web_url})"]
    for o in report.lists:
        name = o.target.display_name
        if o.created:
            lines.append(f"Created list {name!r} with {len(o.target.schema.columns)} columns: {o.web_url}")
        elif o.added or o.problems:
            done = (f"added the missing column{'s' if len(o.added) > 1 else ''} {', '.join(o.added)}"
                    if o.added else "")
            fix = f"{len(o.problems)} column(s) need fixing (below)" if o.problems else ""
            lines.append(f"List {name!r} existed; {'; '.join(p for p in (done, fix) if p)}: {o.web_url}")
        else:
            lines.append(f"List {name!r} is up to date: {o.web_url}")
    if not report.changed and not report.problems:
        lines.append("Nothing changed: both lists already exist with every column.")
    lines.append("Check that both lists keep their version history (List settings -> Versioning settings -> Create a "
                 "version each time you edit an item: Yes): Graph cannot set or read it, and without it no decision "
                 "in the Retention requests list can be attributed, so none is applied.")
    return lines


def problem_lines(report: ProvisionReport) -> list[str]:
    if not report.problems:
        return []
    return [*report.problems,
            "These columns were left as they are (changing a column's type can lose what people entered). Fix them "
            "in the list's settings (List settings -> the column), or delete the column and run provision again to "
            "recreate it; until then the cycle cannot read these lists reliably."]
