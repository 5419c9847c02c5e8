"""The Celery app. Its beat schedule is CELERY_BEAT_SCHEDULE in settings.py, the one place periodic work is declared.

Beat only triggers sweeps; what is due lives in the database (see directory.models.Reminder), so a
broker outage delays work but loses none.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")

app = Celery("thin_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

