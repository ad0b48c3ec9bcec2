from django import forms
from django.conf import settings


class PostForm(forms.Form):
    # The limit is enforced by services.validate_post_text (characters, not bytes). No
    # maxlength: browsers count it in UTF-16 units, so it would cut emoji-rich posts that the
    # server accepts; the compose box's counter (socialnet.js) counts as the server does.
    text = forms.CharField(
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "data-max-chars": settings.POST_MAX_CHARS, "placeholder": "What's happening?"}
        ),
        label="Post text",
    )
