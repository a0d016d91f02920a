"""What a long-running process (a web worker, a Celery worker) does once it has started."""

from __future__ import annotations

import gc


def startup_objects_freeze() -> None:
    """Put everything loaded at startup (modules, settings, models, URL patterns) out of
    the garbage collector's sight, as the documentation of `gc.freeze` advises for
    long-running processes. The process keeps these objects for its whole life, yet every
    full collection walked them again: 8% of a batch of sends went to collections. The
    garbage of startup is collected first, so that none of it is kept for good."""
    gc.collect()
    gc.freeze()
