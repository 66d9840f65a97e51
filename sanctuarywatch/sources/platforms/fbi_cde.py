"""FBI Crime Data Explorer: the two hosts, the API key and response checks shared by CDE sources.

Dated notes (SOURCES.md, 2026):
- `https://api.usa.gov/crime/fbi/cde` needs an api.data.gov key in the `API_KEY` query
  parameter (about 1,000 requests/hour per key is the usual default; not confirmed).
- The site's own backend, `https://cde.ucr.cjis.gov/LATEST`, is reported to answer the same
  paths without a key.
- The old hosts (`api.usa.gov/crime/fbi/sapi`, `*.fr.cloud.gov`) are dead.

Which host serves is configuration (`options.extra["host"]`: `api`, `site`, or `auto`, the
default: the keyed API when a key is set, else the site). The page kind names the host, so
every figure records which one served it, in the archive and in the warehouse.
"""

from __future__ import annotations

import json
from typing import Any

from sanctuarywatch.errors import ConfigError, LayoutError
from sanctuarywatch.http import Fetched, secret_from_env
from sanctuarywatch.sources import Options

HOSTS = {"api": "https://api.usa.gov/crime/fbi/cde", "site": "https://cde.ucr.cjis.gov/LATEST"}
HOST_NAMES = {"api": "api.usa.gov", "site": "cde.ucr.cjis.gov"}
KEY_ENV = ("SANCTUARYWATCH_FBI_API_KEY", "FBI_API_KEY", "API_DATA_GOV_KEY")


def choose_host(options: Options) -> str:
    """'api' or 'site', from options.extra["host"]; 'auto' takes the API only with a key."""
    wanted = str(options.extra.get("host", "auto"))
    if wanted not in ("api", "site", "auto"):
        raise ConfigError("options.extra.host", f"expected api, site or auto, not {wanted!r}")
    if wanted == "auto":
        return "api" if secret_from_env(*KEY_ENV) else "site"
    return wanted


def base_url(options: Options, host: str) -> str:
    """Where to send requests: the configured base URL (tests, the demo) or the host's own."""
    return (options.base_url or HOSTS[host]).rstrip("/")


def key_params(host: str) -> dict[str, str]:
    """The API key parameter for the keyed host; a ConfigError naming the variables if unset."""
    if host != "api":
        return {}
    key = secret_from_env(*KEY_ENV)
    if not key:
        raise ConfigError(
            "environment",
            f"the keyed CDE API needs an api.data.gov key in {' or '.join(KEY_ENV)} "
            "(or use options.extra['host'] = 'site')",
        )
    return {"API_KEY": key}


def kind_for(endpoint: str, host: str) -> str:
    return f"{endpoint}:{host}"


def host_of(source: str, kind: str) -> str:
    """The host name recorded with each figure, from the page kind ('monthly:site')."""
    host = kind.rpartition(":")[2]
    if host not in HOST_NAMES:
        raise LayoutError(source, f"page kind {kind!r}", "a kind ending in :api or :site", host)
    return HOST_NAMES[host]


def json_object(source: str, fetched: Fetched) -> dict[str, Any]:
    """The body as a JSON object, or a LayoutError saying what came instead."""
    try:
        data = json.loads(fetched.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayoutError(source, fetched.url, "a JSON document", f"{exc}") from None
    if not isinstance(data, dict):
        raise LayoutError(source, fetched.url, "a JSON object", type(data).__name__)
    return data
