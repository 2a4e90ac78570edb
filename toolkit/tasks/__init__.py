"""The registry of tasks: each task is data, looked up by name.

A task carries everything that differs between tasks, so that nothing outside this package asks
which kind of task it holds. Adding a task is one new file here plus one line in `TASKS`.
"""

from __future__ import annotations

from toolkit.errors import ToolkitError
from toolkit.tasks import ner, sentiment
from toolkit.tasks.task import Encoding, Task

__all__ = ["TASKS", "Encoding", "Task", "get_task", "task_of_architecture"]


TASKS: dict[str, Task] = {task.name: task for task in (ner.TASK, sentiment.TASK)}


def get_task(name: str) -> Task:
    """Return the task called `name`, or raise a clear error naming the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ToolkitError(
            f"unknown task {name!r}: expected one of {', '.join(sorted(TASKS))}."
        ) from None


def task_of_architecture(architectures) -> Task | None:
    """The task whose head one of transformers' architecture names has, if any."""
    return next((t for a in architectures or () for t in TASKS.values() if a.endswith(t.architecture_suffix)),
                None)
