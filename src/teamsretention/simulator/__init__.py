"""A Microsoft Graph tenant simulator for tests, the demo and benchmarks.

It speaks Graph's wire format for the calls teamsretention makes (see app.py) and keeps the tenant in
memory (model.py). Build a tenant with :func:`load_scenario`, :func:`build_demo_tenant` or
:func:`build_bench_tenant`, serve it in-process with ``create_app`` + ``httpx.ASGITransport`` or on loopback
with :func:`serve`.
"""

from .app import create_app
from .knobs import FailRule, ItemBlock, Knobs
from .model import Label, TenantModel
from .scenario import example_path, load_scenario
from .server import RunningSimulator, serve
from .tenants import build_bench_tenant, build_demo_tenant

__all__ = [
    "FailRule",
    "ItemBlock",
    "Knobs",
    "Label",
    "RunningSimulator",
    "TenantModel",
    "build_bench_tenant",
    "build_demo_tenant",
    "create_app",
    "example_path",
    "load_scenario",
    "serve",
]
