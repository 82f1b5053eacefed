"""Segments at run time: a workflow standing inside a called process (a segment).

SpiffWorkflow runs a call activity as a sub-workflow of its own: the top workflow's
`last_task` stays on the step before the call until the segment hands back, and each
sub-workflow keeps its own tasks. These helpers answer for the whole instance.
"""

from __future__ import annotations


def last_data(wf) -> dict:
    """The data of the step done last anywhere in the instance: inside a running segment,
    that segment's (it holds the diagram's data as it was handed in, plus its own)."""
    running = [sp.last_task for sp in wf.subprocesses.values() if not sp.completed]
    candidates = [(0, wf.last_task)] + [(1, task) for task in running]
    candidates = [(depth, task) for depth, task in candidates if task is not None]
    if not candidates:
        return {}
    # The latest change wins; at the same instant (a frozen clock) the running segment's.
    return max(candidates, key=lambda c: (c[1].last_state_change, c[0]))[1].data
