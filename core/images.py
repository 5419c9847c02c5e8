"""Checking and tidying uploaded logos.

The file name and the browser's content type are the uploader's word; only the bytes count. Pillow
reads the header to learn the real format and size before anything is decoded, so a small file that
claims to be an enormous image (a decompression bomb) is refused without being expanded. Accepted
images are shrunk to fit PORTAL_LOGO_MAX_PIXELS and written out afresh, which drops EXIF (GPS
positions, camera serials) and anything else hidden in the original file.
"""

import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.text import slugify
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# A logo never needs more than this before resizing (3000 x 3000); far below Pillow's own limit. Decoded
# at four bytes a pixel, and copied once more to shrink one with transparency, that is about 72 MB: the
# most a logo may cost a worker.
MAX_SOURCE_PIXELS = 9_000_000


def _too_big_message(limit: int) -> str:
    return _("The logo is too big: the file must be %(size)s MB or smaller.") % {"size": f"{limit / (1024 * 1024):g}"}


def process_logo(upload, *, name: str = "logo") -> ContentFile:
    """Check an uploaded logo and return a clean, resized copy to store.

    Raises ValidationError with a message for the person uploading if the file is not a PNG, JPEG,
    GIF or WebP image, is too large, or is damaged.
    """
    limit = settings.PORTAL_LOGO_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise ValidationError(_too_big_message(limit), code="file_too_big")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_too_big_message(limit), code="file_too_big")
    not_an_image = ValidationError(
        _("The logo must be a PNG, JPEG, GIF or WebP image; this file is not one of those."), code="invalid_image"
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its soft and hard limits; treat a warning as a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ALLOWED_FORMATS:
                    raise not_an_image
                width, height = image.size
                if width * height > MAX_SOURCE_PIXELS:
                    raise ValidationError(
                        _(
                            "The logo is %(width)s × %(height)s pixels; please upload a smaller image (at most 3000 × 3000)."
                        )
                        % {"width": width, "height": height},
                        code="image_too_large",
                    )
                # A JPEG can be decoded at an eighth of its size or less: no need for every pixel.
                image.draft(None, (settings.PORTAL_LOGO_MAX_PIXELS, settings.PORTAL_LOGO_MAX_PIXELS))
                image.load()
                cleaned = _resized_copy(image)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("The logo has too many pixels; please upload a smaller image."), code="image_too_large")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise not_an_image

    output = io.BytesIO()
    if cleaned.mode == "RGBA":
        cleaned.save(output, format="PNG", optimize=True)
        extension = "png"
    else:
        cleaned.save(output, format="JPEG", quality=88, optimize=True)
        extension = "jpg"
    return ContentFile(output.getvalue(), name=f"{slugify(name)[:60] or 'logo'}.{extension}")


def _resized_copy(image: Image.Image) -> Image.Image:
    """The first frame, turned upright, in RGB or RGBA, fitted inside the logo size, without metadata."""
    image.seek(0)
    # In place, and converted only when needed: each copy of a large source costs as much as the source.
    ImageOps.exif_transpose(image, in_place=True)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if has_alpha else "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    limit = settings.PORTAL_LOGO_MAX_PIXELS
    image.thumbnail((limit, limit), Image.Resampling.LANCZOS)
    # A new image holds the pixels only: no EXIF, ICC profile, comments or text chunks.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean
