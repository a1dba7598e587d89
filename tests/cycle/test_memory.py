"""A cycle hands the memory its steps freed back to the system between the steps and when it ends
(cycle.memory), on glibc; elsewhere it runs the same without."""

from __future__ import annotations

import platform

from teamsretention.cycle import memory
from teamsretention.cycle.memory import release_freed_memory

from .test_cycle import World, created


def test_on_glibc_the_c_library_is_asked_to_give_free_heap_back():
    assert release_freed_memory() is (platform.libc_ver()[0] == "glibc")  # musl has no malloc_trim


def test_an_enforcing_cycle_gives_memory_back_after_each_tenant_wide_step_and_at_its_end(tmp_path, monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr(memory, "_TRIM", lambda pad: asked.append(pad) or 1)
    world = World(tmp_path)
    world.gw.add_user("alice")
    world.gw.add_recording("alice", "old", created(-35))
    report = world.cycle(0)
    assert report.deleted == 0 and report.digests_sent == 1
    assert asked == [0, 0, 0, 0]  # before evaluate, warn and delete, and once the cycle is over
    world.db.dispose()


def test_without_malloc_trim_the_cycle_runs_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_TRIM", None)
    world = World(tmp_path)
    world.gw.add_user("alice")
    world.gw.add_recording("alice", "old", created(-35))
    assert world.cycle(0).digests_sent == 1
    assert release_freed_memory() is False
    world.db.dispose()
