"""Time windows of the monitoring API: ``1h``, ``24h``, ``7d``, ``30m``, ``all``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from model_service.errors import ErrorDetail, InvalidInput

_WINDOW = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
_SECONDS = {"m": 60, "h": 3600, "d": 86400}
ALL = "all"


@dataclass(frozen=True)
class Window:
    """A window ending now: ``seconds`` long, or everything stored when ``seconds`` is None."""

    text: str
    seconds: int | None

    def start(self, now: float) -> float | None:
        """The epoch second the window starts at (None: no lower bound)."""
        return None if self.seconds is None else now - self.seconds


def parse_window(text: str | None, default: str = "24h") -> Window:
    """Read ``<n>m``, ``<n>h``, ``<n>d`` or ``all``; raise :class:`InvalidInput` otherwise."""
    text = default if text is None else text.strip()
    if text == ALL:
        return Window(ALL, None)
    match = _WINDOW.match(text)
    if match is None:
        raise InvalidInput(
            "The window is not valid.",
            [
                ErrorDetail(
                    ("window",),
                    f"expected a count of minutes, hours or days such as '30m', '1h', '24h', "
                    f"'7d', or 'all'; got {text[:40]!r}",
                )
            ],
        )
    count, unit = match.groups()
    return Window(text, int(count) * _SECONDS[unit])
