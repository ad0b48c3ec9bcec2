"""Rules for what a user may type or upload, shared by forms, services and the API."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible
from PIL import Image

USERNAME_MAX_LENGTH = 30
USERNAME_PATTERN = r"[A-Za-z0-9_]{1,30}"

validate_username = RegexValidator(
    regex=rf"\A{USERNAME_PATTERN}\Z",
    message="Usernames are 1 to 30 letters (A–Z), digits or underscores.",
    code="invalid_username",
)

AVATAR_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


@deconstructible
class AvatarValidator:
    """An avatar must be a small JPEG, PNG, GIF or WebP image of sane dimensions.

    Checked by decoding the header with Pillow, never trusting the file name or the
    browser's content type. The pixel limit stops decompression bombs.
    """

    def __call__(self, upload):
        if upload.size > settings.AVATAR_MAX_BYTES:
            limit_mb = settings.AVATAR_MAX_BYTES / (1024 * 1024)
            raise ValidationError(f"The avatar is too large: at most {limit_mb:g} MB.", code="avatar_too_large")
        try:
            upload.seek(0)
            with Image.open(upload) as image:
                image_format, (width, height) = image.format, image.size
                image.verify()
        except (OSError, SyntaxError, Image.DecompressionBombError):
            raise ValidationError(
                "The avatar must be a JPEG, PNG, GIF or WebP image.", code="avatar_not_image"
            ) from None
        finally:
            upload.seek(0)
        if image_format not in AVATAR_FORMATS:
            raise ValidationError("The avatar must be a JPEG, PNG, GIF or WebP image.", code="avatar_bad_type")
        if width * height > settings.AVATAR_MAX_PIXELS:
            raise ValidationError("The avatar's dimensions are too large.", code="avatar_too_many_pixels")

    def __eq__(self, other):
        return isinstance(other, AvatarValidator)


validate_avatar = AvatarValidator()
