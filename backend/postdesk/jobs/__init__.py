"""Background jobs: one `enqueue()` for application code, two engines (arq and in-process).

`enqueue()` only records the request in the current unit of work; the unit of work hands it to
the engine after its transaction commits, and drops it on rollback.
"""

from postdesk.jobs.registry import JobContext, RetryLater, job, periodic
from postdesk.uow import enqueue

__all__ = ["JobContext", "RetryLater", "enqueue", "job", "periodic"]
