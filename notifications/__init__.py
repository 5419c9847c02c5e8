"""Notifications: every email the portal sends is first a Reminder row (models), planned once under a
unique key (services.schedule_reminder), sent once by a worker (services.send_reminder, claimed, sent,
marked) either at once (tasks.enqueue_reminder) or by the beat-triggered sweep (tasks.sweep_reminders),
which first runs the steps apps register with tasks.register_sweep_step.

Plumbing: it imports only core and the Celery app. (Its one tie upwards is the Reminder's optional
link to the directory's Organisation, a foreign key by name; see tests/test_layout.py.)
"""
