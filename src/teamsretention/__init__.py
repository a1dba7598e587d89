"""teamsretention: governs Microsoft Teams meeting recordings through Microsoft Graph."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("teamsretention")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"
