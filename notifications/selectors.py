"""Reads for reminders."""

from .models import Reminder


def planned_reminder_keys(keys: list[str], *, batch_size: int = 500) -> set[str]:
    """Which of these reminder keys are stored already (planned, sent or cancelled), a batch per query.
    Every app's sweep uses it to plan only what is new."""
    planned: set[str] = set()
    for start in range(0, len(keys), batch_size):
        planned.update(Reminder.objects.filter(key__in=keys[start : start + batch_size]).values_list("key", flat=True))
    return planned
