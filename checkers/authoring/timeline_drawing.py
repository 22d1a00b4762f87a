"""A finished run as a picture: one row per task, its attempts as bars on a shared time axis, state and duration.

Drawn from the run record a real local job run wrote.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from checkers.authoring.frame import KIT_TAG, STATE_COLOURS, framed_page, seconds_text, state_badge
from checkers.authoring.shot import ScreenshotError

if TYPE_CHECKING:
    from checkers.jobs.record import RunRecord


_TIMELINE_CSS = """
.tl { padding: 14px 16px 16px; }
.tl-row { display: flex; align-items: center; height: 34px; }
.tl-name { width: 190px; flex: none; font-size: 13px; font-weight: bold; }
.tl-name span { display: block; font-weight: normal; font-size: 10.5px; color: #5f6f78; }
.tl-track { position: relative; flex: none; height: 22px; background: #f4f6f8; border-radius: 4px; }
.tl-bar { position: absolute; top: 3px; height: 16px; border-radius: 3px; min-width: 3px; }
.tl-state { width: 150px; flex: none; padding-left: 12px; }
.tl-time { width: 80px; flex: none; text-align: right; font-size: 12px; font-family: "DejaVu Sans Mono",
           monospace; color: #44545e; }
.tl-axis { position: relative; height: 18px; margin-left: 190px; font-size: 10px; color: #8a98a0; }
.tl-axis span { position: absolute; top: 2px; transform: translateX(-50%); }
.tl-foot { padding: 8px 16px 12px; font-size: 12px; color: #44545e; border-top: 1px solid #eef1f4; }
"""
TRACK_WIDTH = 560


def _tick_step(total: float) -> float:
    for step in (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1800, 3600):
        if total / step <= 8:
            return step
    return 7200


def run_timeline_html(*, record: RunRecord) -> str:
    """A finished run: one row per task, its attempts as bars on a shared time axis, state and duration."""
    starts = [a.start_time for t in record.tasks for a in t.attempts if a.start_time]
    start = record.start_time or (min(starts) if starts else None)
    ends = [a.end_time for t in record.tasks for a in t.attempts if a.end_time]
    end = record.end_time or (max(ends) if ends else None)
    if start is None or end is None:
        raise ScreenshotError(f"Run {record.run_id} has no start or end time: it did not finish.",
                              hint="Draw the timeline from a finished run.")
    total = max((end - start).total_seconds(), 0.001)
    scale = TRACK_WIDTH / total
    rows = []
    for task in record.tasks:
        bars = []
        for a in task.attempts:
            if a.start_time is None:
                continue
            left = (a.start_time - start).total_seconds() * scale
            width = max(((a.end_time or end) - a.start_time).total_seconds() * scale, 3)
            fg = STATE_COLOURS.get(a.state or "", ("#1d5fa8", ""))[0]
            bars.append(f'<div class="tl-bar" style="left:{left:.1f}px;width:{width:.1f}px;background:{fg}" '
                        f'title="attempt {a.number}"></div>')
        kind = "If/else condition" if task.type == "condition" else (
            Path(task.notebook_file).name if task.notebook_file else task.type)
        tries = f" · {len(task.attempts)} attempts" if len(task.attempts) > 1 else ""
        rows.append(f'<div class="tl-row"><div class="tl-name">{html.escape(task.task_key)}'
                    f"<span>{html.escape(kind + tries)}</span></div>"
                    f'<div class="tl-track" style="width:{TRACK_WIDTH}px">{"".join(bars)}</div>'
                    f'<div class="tl-state">{state_badge(task.result_state)}</div>'
                    f'<div class="tl-time">{seconds_text(task.duration)}</div></div>')
    step = _tick_step(total)
    ticks = "".join(f'<span style="left:{t * scale:.1f}px">{t:g} s</span>'
                    for t in [i * step for i in range(int(total // step) + 1)])
    params = " · ".join(f"{html.escape(k)} = {html.escape(v)}" for k, v in record.parameters.items())
    body = (f'<div class="frame"><div class="bar"><span class="name">{html.escape(record.job_name)}</span>'
            f'<span class="pill">Run {record.run_id}</span>{state_badge(record.result_state)}'
            f'<span class="muted">{seconds_text(record.duration)} · started '
            f'{start.strftime("%Y-%m-%d %H:%M:%S UTC")}</span>{KIT_TAG}</div>'
            f'<div class="tl">{"".join(rows)}<div class="tl-axis" style="width:{TRACK_WIDTH}px">{ticks}</div></div>'
            f'<div class="tl-foot">Job parameters: {params or "none"}</div></div>')
    return framed_page(body, css=_TIMELINE_CSS)
