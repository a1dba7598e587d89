"""The container's HEALTHCHECK: GET the daemon's /healthz and exit 0 on 200, else 1 with one line saying why.

Standard library only, so it runs in the image as it is (no curl in a slim image). Usage:
    python healthcheck.py [URL]        (default http://127.0.0.1:9464/healthz)
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:9464/healthz"


def probe(url: str, timeout: float = 4.0) -> tuple[int, str]:
    """The exit code and the line to print."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            body = answer.read(200).decode("utf-8", "replace").strip()
            return 0, f"healthy: {url} answered {answer.status} {body}".rstrip()
    except urllib.error.HTTPError as exc:
        return 1, f"unhealthy: {url} answered {exc.code}; see the daemon's log (docker logs, kubectl logs)"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return 1, (f"unhealthy: nothing answers at {url} ({reason}); the daemon is not running, or its "
                   "endpoint is off: set [web] enabled = true (port 9464) in the configuration")


def main(argv: list[str]) -> int:
    code, line = probe(argv[1] if len(argv) > 1 else DEFAULT_URL)
    print(line)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
