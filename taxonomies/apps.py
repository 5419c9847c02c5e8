from functools import partial

from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class TaxonomiesConfig(AppConfig):
    name = "taxonomies"
    verbose_name = _("Vocabularies")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from .selectors import remember_version_during_requests
        from .services import record_taxonomy_change

        request_started.connect(
            partial(remember_version_during_requests, started=True), weak=False, dispatch_uid="taxonomy-version-request-started"
        )
        request_finished.connect(
            partial(remember_version_during_requests, started=False), weak=False, dispatch_uid="taxonomy-version-request-finished"
        )

        for model in (self.get_model("Taxonomy"), self.get_model("TaxonomyTerm")):
            post_save.connect(record_taxonomy_change, sender=model, dispatch_uid=f"taxonomy-change-save-{model.__name__}")
            post_delete.connect(record_taxonomy_change, sender=model, dispatch_uid=f"taxonomy-change-delete-{model.__name__}")
