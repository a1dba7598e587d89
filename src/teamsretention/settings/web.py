"""The ``[web]`` section: the optional health and metrics endpoint (``/healthz``, ``/readyz``, ``/metrics``).

It answers without authentication, so it listens on a loopback address unless ``allow_remote = true`` says
that something else (a firewall, a network policy, the pod network) decides who may reach it.
"""

from __future__ import annotations

from pydantic import ValidationInfo, field_validator

from ..endpoints import is_loopback_host
from .sections import _Section


class WebSettings(_Section):
    enabled: bool = False
    allow_remote: bool = False  # declared before host: host's check reads it
    host: str = "127.0.0.1"
    port: int = 9464

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str, info: ValidationInfo) -> str:
        host = value.strip()
        if not host:
            raise ValueError("must name an address to listen on (127.0.0.1, ::1, localhost)")
        if not is_loopback_host(host) and info.data.get("allow_remote") is not True:
            raise ValueError(
                f"{host!r} is not a loopback address, and /metrics and /readyz answer anyone who can reach them "
                "without authentication; listen on 127.0.0.1 (the default), or set web.allow_remote = true "
                "when a firewall or network policy decides who reaches that address")
        return host

    @field_validator("port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("must be a TCP port from 1 to 65535 (9464 is the default)")
        return value
