"""The Celery app. Its beat schedule is CELERY_BEAT_SCHEDULE in settings.py, the one place periodic work is declared.

Beat only triggers sweeps; what is due lives in the database (see notifications.models.Reminder), so a
broker outage delays work but loses none.
"""

import os

from celery import Celery
from celery.signals import beat_embedded_init, beat_init
from kombu import Connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")

app = Celery("thin_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
@beat_embedded_init.connect
def sweep_at_start(sender=None, **kwargs) -> None:
    """With PORTAL_SWEEP_AT_START on (`make run` sets it), every periodic job is queued once as beat
    starts, so the first reminder sweep runs at start rather than a whole interval later. Sweeps are
    idempotent; production leaves it off and lets the locked beat's schedule decide."""
    from django.conf import settings

    if not settings.PORTAL_SWEEP_AT_START:
        return
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        app.send_task(entry["task"], **entry.get("options", {}))


def quick_broker_connection(*, timeout: float = 2.0) -> Connection:
    """A broker connection that tries once and gives up within about `timeout` seconds.

    For web requests (health checks, "send now" buttons): Celery's own connections retry for
    several seconds and, against a broker that accepts but never answers, wait forever. Nothing
    sent this way may matter more than a delay, because the database holds the work.
    """
    return app.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            "max_retries": 0,
            "connect_retries_timeout": timeout,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
        },
    )
