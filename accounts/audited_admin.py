"""The Django admin's way of changing configuration: audited with a reason, never deleting.

Every add or change made in the admin asks for the reason, which the record's audit history
keeps beside who and when (21 CFR 11.10(e): the audit trail records why a record changed, for
configuration as for clinical data). Rows edited inline on the same page share the reason.
"""

from django import forms
from simple_history.admin import SimpleHistoryAdmin

REASON_FIELD = "change_reason"
REASON_MAX_LENGTH = 2000


class ReasonForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required: kept in the audit history of every record this page changes.",
    )

    def clean_change_reason(self):
        reason = self.cleaned_data[REASON_FIELD].strip()
        if not reason:
            raise forms.ValidationError("Give the reason for the change.")
        if "\x00" in reason:
            raise forms.ValidationError("Null characters are not allowed.")
        return reason


class AuditedAdmin(SimpleHistoryAdmin):
    """Adds and changes need a reason (kept in the history); nothing is deleted."""

    # A subclass with its own form mixes ReasonForm into it (accounts/admin.py does).
    form = ReasonForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._editable(request, obj):
            return fieldsets
        named = [name for _, options in fieldsets for name in _flatten(options.get("fields", ()))]
        if REASON_FIELD in named:
            return fieldsets
        return [*fieldsets, ("Audit", {"fields": [REASON_FIELD]})]

    def get_fields(self, request, obj=None):
        fields = [f for f in super().get_fields(request, obj) if f != REASON_FIELD]
        return [*fields, REASON_FIELD] if self._editable(request, obj) else fields

    def _editable(self, request, obj) -> bool:
        return self.has_change_permission(request, obj) if obj else self.has_add_permission(request)

    def save_model(self, request, obj, form, change):
        obj._change_reason = form.cleaned_data[REASON_FIELD]
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        reason = form.cleaned_data[REASON_FIELD]
        for instance in formset.save(commit=False):
            instance._history_user = request.user
            instance._change_reason = reason
            instance.save()
        formset.save_m2m()

    def has_delete_permission(self, request, obj=None):
        # Configuration and accounts are referred to by clinical records: edited, never deleted.
        return False


def _flatten(fields):
    for item in fields:
        if isinstance(item, list | tuple):
            yield from item
        else:
            yield item
