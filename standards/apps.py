from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class StandardsConfig(AppConfig):
    name = "standards"
    verbose_name = "Sponsor data standards (SDTM, Define-XML, ODM)"

    def ready(self):
        # Each app that owns data declares its SDTM domains in its own `sdtm.py`
        # (docs/standards.md §9); importing them registers the domains.
        autodiscover_modules("sdtm")
        from .triggers import connect

        connect()
