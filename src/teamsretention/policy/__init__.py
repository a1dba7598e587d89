"""The policy, pure: no I/O, no clock, no SDK types. Imports only the kernel and the standard library.

- ``retention``: :func:`evaluate`, keep / warn / delete for one recording on one day (design §2);
  ``covers`` surveys what keeps a recording.
- ``projection``: :func:`project`, the decision on a later day (``plan --at``).
- ``recognition``: :func:`classify`, whether a driveItem is a Teams meeting recording.
- ``validation``: the rules a [policy] must follow.
"""

from .projection import project
from .recognition import (
           Location,
           Recognition,
           Verdict,
           classify,
           is_recordings_folder_name,
           is_video,
           location_from_path,
)
from .retention import evaluate
from .validation import validate_policy

__all__ = ["Location", "Recognition", "Verdict", "classify", "evaluate", "is_recordings_folder_name", "is_video",
           "location_from_path", "project", "validate_policy"]
