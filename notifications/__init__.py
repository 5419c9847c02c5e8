"""Notifications: every email the portal sends is first a Reminder row (models), planned once under a
unique key (services.schedule_reminder), sent once by a worker (services.send_reminder, claimed, sent,
marked) either at once (tasks.enqueue_reminder) or by the beat-triggered sweep (tasks.sweep_reminders),
which first runs the steps apps register with tasks.register_sweep_step. A reminder may point at the
record it is about (`Reminder.about`, a generic link, so nothing here knows the apps above).

Plumbing: it imports only core, accounts (for its admin) and the Celery app.
"""
