"""The project's exceptions: every failure a user sees is one of these.

    SanctuaryWatchError          base; catch this to catch everything the project raises
     ├── FetchError              an upstream answered badly or not at all (URL, status)
     │    └── BotWallError       the site answered with a bot-protection page
     ├── LayoutError             a response or file is not shaped as the parser expects
     ├── RecordError             one record breaks an assumption (bad date, missing key)
     └── ConfigError             a settings file, option or environment variable is wrong

Every message names the source, the URL or file, and what was expected versus found, so a
user can act on it without reading a traceback. URLs in messages are already redacted.
"""

from __future__ import annotations


class SanctuaryWatchError(Exception):
    """Base class for every error the project raises on purpose."""


class FetchError(SanctuaryWatchError):
    """The upstream did not give a usable answer (network failure, 4xx, 5xx after retries)."""

    def __init__(self, source: str, url: str, detail: str, status: int | None = None) -> None:
        self.source, self.url, self.status, self.detail = source, url, status, detail
        shown = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"[{source}] {shown} from {url}: {detail}")


class BotWallError(FetchError):
    """The site put a bot-protection page in front of the content; we stop, never evade."""


class LayoutError(SanctuaryWatchError):
    """A response or file does not have the shape the parser relies on."""

    def __init__(self, source: str, where: str, expected: str, found: str) -> None:
        self.source, self.where, self.expected, self.found = source, where, expected, found
        super().__init__(
            f"[{source}] unexpected layout in {where}: expected {expected}; found {found}"
        )


class RecordError(SanctuaryWatchError):
    """One record breaks an assumption the normaliser relies on."""

    def __init__(self, source: str, where: str, key: str, detail: str) -> None:
        self.source, self.where, self.key, self.detail = source, where, key, detail
        super().__init__(f"[{source}] bad record {key!r} in {where}: {detail}")


class ConfigError(SanctuaryWatchError):
    """A settings file, command-line option or environment variable is not usable."""

    def __init__(self, where: str, detail: str) -> None:
        self.where, self.detail = where, detail
        super().__init__(f"{where}: {detail}")
