from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users, roles and site access"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save, pre_save

        from . import access
        from .models import User

        # Signing in writes last_login without an audit-history row (accounts/access.py).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(access.update_last_login, dispatch_uid="update_last_login")
        user_locked_out.connect(access.on_locked_out, dispatch_uid="accounts_end_access")
        pre_save.connect(access.remember_active, sender=User, dispatch_uid="accounts_was_active")
        post_save.connect(access.on_user_saved, sender=User, dispatch_uid="accounts_deactivated")
