"""Where the quality app keeps uploaded files: evidence and support materials.

Not under MEDIA_ROOT, which the portal serves publicly at /media/: these files are only ever sent by a
view that has checked who is asking (and counts the download). The folder is read from settings at
each use, so tests can point it somewhere temporary.
"""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class QualityFileStorage(FileSystemStorage):
    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.QUALITY_FILES_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        # No public address: files are served through quality.views only.
        return None

    def url(self, name):
        raise ValueError("Quality files have no public address; link to the download view instead.")

    def deconstruct(self):
        return ("quality.storage.QualityFileStorage", [], {})


_storage = QualityFileStorage()


def quality_file_storage() -> QualityFileStorage:
    return _storage
