#!/usr/bin/env python3
"""A stand-in for the Azure CLI in tests of deploy/scripts: answers from a JSON tenant in $FAKE_AZ_STATE and
appends each call to $FAKE_AZ_STATE.calls (one JSON list of arguments a line). Only the calls the scripts make."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def answer(args: list[str], tenant: dict) -> str:
    words = " ".join(a for a in args if not a.startswith("-"))
    if words.startswith("account show"):
        return tenant["tenant_id"]
    if words.startswith("ad app list"):
        return tenant.get("app_id", "")
    if words.startswith("ad app create"):
        tenant["app_id"] = "11111111-2222-3333-4444-555555555555"
        return tenant["app_id"]
    if words.startswith("ad sp list"):
        return tenant.get("sp_id", "")
    if words.startswith("ad sp create"):
        tenant["sp_id"] = "66666666-7777-8888-9999-000000000000"
        return tenant["sp_id"]
    if words.startswith("ad sp show"):
        query = args[args.index("--query") + 1]
        if query == "id":
            return "graph-sp-object-id"
        return "\n".join(f"{name}\t{role_id}" for name, role_id in tenant["graph_roles"].items())
    if words.startswith("ad app credential list"):
        return "\n".join(tenant.get("thumbprints", []))
    if words.startswith("ad app credential reset"):
        tenant.setdefault("thumbprints", []).append("uploaded")
        return ""
    if words.startswith("rest"):
        method, url = args[args.index("--method") + 1], args[args.index("--url") + 1]
        if method == "get" and url.endswith("/appRoleAssignments"):
            return "\n".join(f"{a}\t{r}" for a, r in tenant.get("assignments", {}).items())
        if method == "get" and "?$select=id" in url:
            return tenant["site_id"]
        if method == "get" and url.endswith("/permissions"):
            return tenant.get("site_permission_id", "")
        if method == "get" and "/permissions/" in url:
            return tenant.get("site_roles", "")
        return ""
    return ""


def main() -> int:
    state = Path(os.environ["FAKE_AZ_STATE"])
    tenant = json.loads(state.read_text())
    args = sys.argv[1:]
    with open(f"{state}.calls", "a", encoding="utf-8") as calls:
        calls.write(json.dumps(args) + "\n")
    out = answer(args, tenant)
    state.write_text(json.dumps(tenant))
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
