"""The quality pages' forms: plain inputs; the services hold the rules."""

from django import forms

from .models import FORM_CHOICES


class QueryOpenForm(forms.Form):
    form = forms.ChoiceField(choices=FORM_CHOICES)
    record_id = forms.IntegerField(min_value=1)
    field = forms.CharField(required=False, max_length=80, label="Field (blank: the whole form)")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Query")


class TextForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False, label="Text"
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False, label="Reason"
    )


class RecordForm(forms.Form):
    form = forms.ChoiceField(choices=FORM_CHOICES)
    record_id = forms.IntegerField(min_value=1)
    field = forms.CharField(required=False, max_length=80)


class SignForm(forms.Form):
    """The investigator's signature: the user name on the first signing of a session, and the
    password every time (21 CFR 11.200(a)(1))."""

    username = forms.CharField(required=False, max_length=150, label="User name")
    password = forms.CharField(widget=forms.PasswordInput, label="Password")

    def __init__(self, *args, first_in_session: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if first_in_session:
            self.fields["username"].required = True
        else:
            del self.fields["username"]


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=20,
        label="Code",
        help_text="The 6-digit code of your authenticator app, or a recovery code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
