from django import forms
from django.conf import settings


class PostForm(forms.Form):
    # The limit is enforced by services.validate_post_text (characters, not bytes);
    # maxlength here only helps the browser.
    text = forms.CharField(
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "maxlength": settings.POST_MAX_CHARS, "placeholder": "What's happening?"}
        ),
        label="Post text",
    )
