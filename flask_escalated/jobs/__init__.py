"""Background work: the periodic sweeps as RQ jobs, a worker and a cron scheduler, and an
in-process fallback when no Redis is configured.

Job functions take plain arguments, run inside the app context the worker provides, call
services in their own units of work, and are idempotent: running one twice, or on two workers
at once, records nothing twice (the services lock rows; a short Redis lock also keeps a slow run
from being stacked).
"""

from .queues import QUEUES, enqueue, redis_connection
from .schedule import SCHEDULE, Periodic

__all__ = ["QUEUES", "SCHEDULE", "Periodic", "enqueue", "redis_connection"]
