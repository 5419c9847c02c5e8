"""core.text (Markdown made safe) and core.images (logo checks and resizing)."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.images import process_logo
from core.text import render_markdown

# Markdown -------------------------------------------------------------------------------------------


def test_markdown_keeps_the_allowed_formatting():
    html = render_markdown("# Who we are\n\nWe *grow* **food**.\n\n- one\n- two\n\n1. first\n\n> a quote\n\n#### small")
    assert "<h2>Who we are</h2>" in html  # the page title is the only h1
    assert "<em>grow</em>" in html and "<strong>food</strong>" in html
    assert "<ul>" in html and "<ol>" in html and "<li>one</li>" in html
    assert "<blockquote>" in html
    assert "<h4>small</h4>" in html


def test_links_get_rel_noopener_nofollow():
    html = render_markdown("[our site](https://example.org/about)")
    assert '<a href="https://example.org/about" rel="noopener nofollow">our site</a>' in html


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="https://example.org" onclick="alert(1)">click</a>',
        "<p onmouseover=alert(1)>hover</p>",
        "<svg onload=alert(1)></svg>",
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
    ],
)
def test_markdown_strips_scripts_and_event_handlers(dangerous):
    html = render_markdown(f"Hello\n\n{dangerous}\n\nBye")
    lowered = html.lower()
    assert "<script" not in lowered and "alert(" not in lowered
    assert (
        "onerror" not in lowered
        and "onclick" not in lowered
        and "onmouseover" not in lowered
        and "onload" not in lowered
    )
    assert "<iframe" not in lowered and "<style" not in lowered and "<img" not in lowered and "<svg" not in lowered
    assert "Hello" in html and "Bye" in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "[x](data:text/html,hi)",
        "[x](vbscript:msgbox)",
    ],
)
def test_markdown_drops_javascript_and_other_unsafe_links(link):
    html = render_markdown(link)
    assert "javascript" not in html.lower() and "data:" not in html and "vbscript" not in html
    assert ">x</a>" in html  # the text stays, without a dangerous href


def test_headings_beyond_h4_and_h1_never_appear():
    html = render_markdown("# one\n\n###### six\n\n<h1>raw</h1><h5>raw5</h5>")
    assert "<h1" not in html and "<h5" not in html and "<h6" not in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown("   \n ") == ""


# Logos ----------------------------------------------------------------------------------------------


def _image_file(width, height, *, format="PNG", name="logo.png", mode="RGB", **save_args):
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "teal" if mode != "1" else 1).save(buffer, format=format, **save_args)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{format.lower()}")


def _png_header_only(width, height) -> bytes:
    """A tiny PNG file that claims to be width x height pixels: the shape of a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def test_a_real_png_is_accepted_and_resized_to_fit(settings):
    settings.PORTAL_LOGO_MAX_PIXELS = 400
    cleaned = process_logo(_image_file(1200, 600), name="Bow Gardeners")
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert image.size == (400, 200)
        assert image.format == "JPEG"
    assert cleaned.name == "bow-gardeners.jpg"


def test_a_small_transparent_png_stays_png_and_is_not_enlarged(settings):
    settings.PORTAL_LOGO_MAX_PIXELS = 400
    cleaned = process_logo(_image_file(64, 32, mode="RGBA"))
    with Image.open(io.BytesIO(cleaned.read())) as image:
        assert image.format == "PNG" and image.mode == "RGBA" and image.size == (64, 32)


@pytest.mark.parametrize(("format", "name"), [("JPEG", "logo.jpg"), ("GIF", "logo.gif"), ("WEBP", "logo.webp")])
def test_jpeg_gif_and_webp_are_accepted(format, name):
    assert process_logo(_image_file(50, 50, format=format, name=name)).size > 0


def test_metadata_is_stripped():
    exif = Image.Exif()
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # a GPS position
    exif[0x010F] = "Camera maker"
    buffer = io.BytesIO()
    Image.new("RGB", (80, 80), "red").save(buffer, format="JPEG", exif=exif.tobytes())
    assert b"Camera maker" in buffer.getvalue()
    cleaned = process_logo(SimpleUploadedFile("photo.jpg", buffer.getvalue()))
    data = cleaned.read()
    assert b"Camera maker" not in data and b"Exif" not in data


def test_a_text_file_named_png_is_refused():
    upload = SimpleUploadedFile("logo.png", b"This is not an image at all, just text.", content_type="image/png")
    with pytest.raises(ValidationError, match="PNG, JPEG, GIF or WebP"):
        process_logo(upload)


def test_an_image_in_another_format_is_refused_even_named_png():
    with pytest.raises(ValidationError, match="PNG, JPEG, GIF or WebP"):
        process_logo(_image_file(20, 20, format="BMP", name="logo.png"))


def test_an_svg_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'
    with pytest.raises(ValidationError):
        process_logo(SimpleUploadedFile("logo.svg", svg, content_type="image/svg+xml"))


def test_an_oversized_file_is_refused(settings):
    settings.PORTAL_LOGO_MAX_BYTES = 1000
    noisy = io.BytesIO()
    Image.effect_noise((300, 300), 100).convert("RGB").save(noisy, format="PNG")
    upload = SimpleUploadedFile("big.png", noisy.getvalue(), content_type="image/png")
    assert upload.size > 1000
    with pytest.raises(ValidationError, match="too big"):
        process_logo(upload)


def test_a_file_whose_reported_size_is_wrong_is_still_cut_off(settings):
    settings.PORTAL_LOGO_MAX_BYTES = 1000
    upload = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * 5000)
    upload.size = 10  # what a client claims does not matter: the bytes are counted
    with pytest.raises(ValidationError, match="too big"):
        process_logo(upload)


def test_a_decompression_bomb_is_refused_without_being_expanded():
    bomb = _png_header_only(60_000, 60_000)
    assert len(bomb) < 200
    with pytest.raises(ValidationError, match="pixels"):
        process_logo(SimpleUploadedFile("bomb.png", bomb, content_type="image/png"))


def test_an_image_just_over_the_source_limit_is_refused():
    with pytest.raises(ValidationError, match="smaller image"):
        process_logo(SimpleUploadedFile("wide.png", _png_header_only(6000, 5000)))


def test_a_truncated_image_is_refused():
    data = _image_file(100, 100).read()
    with pytest.raises(ValidationError, match="PNG, JPEG, GIF or WebP"):
        process_logo(SimpleUploadedFile("cut.png", data[: len(data) // 2]))
