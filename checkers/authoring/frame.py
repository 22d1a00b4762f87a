"""The frame every drawing of the kit shares: a self-contained HTML page, its header bar, state badges, durations.

The drawings (notebook cells, task graph, run timeline) are the kit's own pictures of local runs, not captures of
the Databricks UI; the frame's header says so on each (:data:`KIT_LABEL`).
"""

from __future__ import annotations

import html

#: The header label of the kit's own drawings: they are drawn from local runs, not captured from Databricks.
KIT_LABEL = "Day 07 kit · local run, not the Databricks UI"

_BASE_CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #ffffff; font-family: "DejaVu Sans", Arial, sans-serif; color: #1b3139; }
#shot { display: inline-block; padding: 20px; background: #f6f7f9; }
.frame { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; overflow: hidden; }
.bar { display: flex; align-items: center; gap: 10px; padding: 10px 16px; border-bottom: 1px solid #e4e8ec;
       background: #fbfcfd; font-size: 14px; }
.bar .name { font-weight: bold; font-size: 15px; }
.pill { font-size: 11px; padding: 2px 8px; border-radius: 10px; background: #eef1f4; color: #4a5a64; }
.state { font-size: 12px; padding: 2px 10px; border-radius: 10px; font-weight: bold; }
.muted { color: #5f6f78; font-size: 12px; }
.kit { margin-left: auto; font-size: 11px; color: #8a98a0; font-style: italic; }
"""

#: Run or task state → (text colour, background) of its badge and timeline bar.
STATE_COLOURS = {"SUCCESS": ("#1f7a3a", "#e3f4e8"), "FAILED": ("#b3261e", "#fbe4e2"),
                 "TIMEDOUT": ("#b3261e", "#fbe4e2"), "UPSTREAM_FAILED": ("#b35c00", "#fff0dc"),
                 "UPSTREAM_CANCELED": ("#6b6b6b", "#eeeeee"), "CANCELED": ("#6b6b6b", "#eeeeee"),
                 "EXCLUDED": ("#5f6f78", "#eef1f4"), "DISABLED": ("#5f6f78", "#eef1f4"),
                 "SUCCESS_WITH_FAILURES": ("#8a6d00", "#fff6d6")}
_STATE_WORDS = {"SUCCESS": "Succeeded", "FAILED": "Failed", "TIMEDOUT": "Timed out",
                "UPSTREAM_FAILED": "Upstream failed", "UPSTREAM_CANCELED": "Upstream canceled",
                "CANCELED": "Canceled", "EXCLUDED": "Excluded", "DISABLED": "Disabled",
                "SUCCESS_WITH_FAILURES": "Succeeded with failures"}


def state_badge(state: str | None) -> str:
    """A coloured pill naming a run or task state in words."""
    text = _STATE_WORDS.get(state or "", state or "Running")
    fg, bg = STATE_COLOURS.get(state or "", ("#1d5fa8", "#e3eefb"))
    return f'<span class="state" style="color:{fg};background:{bg}">{html.escape(text)}</span>'


#: The header's note that a drawing is the kit's, not the Databricks UI.
KIT_TAG = f'<span class="kit">{html.escape(KIT_LABEL)}</span>'


def framed_page(body: str, *, css: str = "") -> str:
    """A complete, self-contained HTML page whose ``#shot`` element is what gets captured."""
    return (f'<!doctype html><html><head><meta charset="utf-8"><style>{_BASE_CSS}{css}</style></head>'
            f'<body><div id="shot">{body}</div></body></html>')


def seconds_text(seconds: float | None) -> str:
    """A duration for a reader: ms under a second, s under a minute, else min and s; a dash when unknown."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
