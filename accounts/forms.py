from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .models import Report, User
from .services import NewAccount, register_user


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=30,
        help_text="1–30 letters, digits or underscores.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    display_name = forms.CharField(
        max_length=50, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False)
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False, label="Password (again)"
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data

    def save(self) -> User | None:
        """Create the account, or put the service's reasons on the form and return None."""
        data = self.cleaned_data
        account = NewAccount(data["username"], data["email"], data["password"], data.get("display_name", ""))
        try:
            return register_user(account)
        except ValidationError as error:
            _add_service_errors(self, error, fallback_field="password")
            return None


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Wrong username, email or password (or the account is suspended).",
    }


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=50, required=False)
    bio = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    avatar = forms.FileField(required=False, help_text="JPEG, PNG, GIF or WebP, at most 2 MB.")


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        choices=Report.Category.choices, widget=forms.RadioSelect, label="What is wrong?", initial=Report.Category.SPAM
    )
    comment = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Anything the moderators should know (optional)"}),
        label="Details for the moderators",
    )


def _add_service_errors(form: forms.Form, error: ValidationError, *, fallback_field: str) -> None:
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        # validate_password raises a plain list of reasons.
        form.add_error(fallback_field, error)
