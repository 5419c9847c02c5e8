"""Hostile uploads (issue 12): what each costs a worker, next to a good file of about the same size.

    .venv/bin/python bench/hostile_uploads.py [--only NAME]

Every file runs in a fresh process, through the real code path: the upload check that notices,
support materials and assessment evidence use (`uploads.check_upload`), the member import's upload
step (`imports.store_import_file`, which reads the whole file as the preview does, before any row is
checked against the database), or the logo check (`images.process_logo`). The process reports its
peak resident memory above what it held once the file was in memory (VmHWM, so C allocations by zlib,
expat and Pillow count too) and the time taken. Target: under 100 MB and 2 s for every file under the
size limit. No database is needed. The machine is shared and busy, so times are indicative.
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, peak_memory_mb, verdict

MB = 1024 * 1024


def _legit_docx() -> bytes:
    import zipfile

    words = [f"word{n}" for n in range(5000)]
    rng = random.Random(12)
    text = " ".join(rng.choice(words) for _ in range(400_000))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", f"<w:document><w:body><w:p><w:t>{text}</w:t></w:p></w:body></w:document>")
    return buffer.getvalue()


def _legit_rows():
    from organisations.exports import ORGANISATION_COLUMNS

    rng = random.Random(12)
    headers = [column.header for column in ORGANISATION_COLUMNS]
    rows = [
        [f"Organisation {n} {rng.random():.8f}", "vco", str(1_000_000 + n), "", "E1 6AN", "Bow East"]
        + [f"text {rng.random():.10f}" for _ in range(len(headers) - 6)]
        for n in range(5000)
    ]
    return headers, rows


def _legit_xlsx() -> bytes:
    from openpyxl import Workbook

    headers, rows = _legit_rows()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _legit_csv() -> bytes:
    import csv

    headers, rows = _legit_rows()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _legit_logo() -> bytes:
    from PIL import Image

    image = Image.new("RGBA", (3000, 3000), (20, 80, 160, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _png_bomb() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


# (name, path, file name, builder): path is "upload", "import" or "logo". Good files come first in each group.
def _cases():
    from tests.core import hostile_files as hostile

    return [
        ("good docx (text)", "upload", "report.docx", _legit_docx),
        ("1 GiB mimetype in a 1 MB zip", "upload", "report.odt", hostile.mimetype_bomb),
        ("part lying about its size (200 MB)", "upload", "report.docx", hostile.lying_docx),
        ("100,000 directory entries", "upload", "report.docx", hostile.entry_count_bomb),
        ("zip bomb inside a document", "upload", "report.docx", hostile.nested_zip),
        ("PNG header of 60,000 x 60,000", "upload", "poster.png", _png_bomb),
        ("good xlsx, 5,000 organisations", "import", "organisations.xlsx", _legit_xlsx),
        ("good csv, 5,000 organisations", "import", "organisations.csv", _legit_csv),
        ("xlsx declaring 160 million cells", "import", "organisations.xlsx", hostile.declared_160_million_cells),
        ("xlsx holding 160 million cells", "import", "organisations.xlsx", hostile.held_160_million_cells),
        ("xlsx with 10 million shared strings", "import", "organisations.xlsx", hostile.ten_million_shared_strings),
        ("xlsx with one 100 MB cell", "import", "organisations.xlsx", hostile.one_100mb_cell),
        ("xlsx with one 100 MB shared string", "import", "organisations.xlsx", hostile.one_100mb_shared_string),
        ("xlsx, 10,000 rows of 100 empty cells", "import", "organisations.xlsx", hostile.many_cells_in_bounds),
        ("xlsx with a value in column XFD", "import", "organisations.xlsx", hostile.far_column),
        ("xlsx with 1,048,576 empty rows", "import", "organisations.xlsx", hostile.a_million_rows),
        ("xlsx with a billion laughs DTD", "import", "organisations.xlsx", hostile.billion_laughs),
        ("1 GiB mimetype zip as an import", "import", "organisations.xlsx", hostile.mimetype_bomb),
        ("csv with one 4 MB line", "import", "organisations.csv", hostile.csv_one_huge_line),
        ("csv with a million fields", "import", "organisations.csv", hostile.csv_many_fields),
        ("csv with 4 million empty lines", "import", "organisations.csv", hostile.csv_many_empty_lines),
        ("good logo, 3000 x 3000 PNG with alpha", "logo", "logo.png", _legit_logo),
        ("logo PNG header of 60,000 x 60,000", "logo", "logo.png", _png_bomb),
    ]


def run_one(path: str, name: str, file: str) -> None:
    """In a fresh process: check one file, print a JSON line of what it cost."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")
    os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="thin-bench-hostile-"))
    import django

    django.setup()
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core import images, uploads
    from organisations import imports

    data = Path(file).read_bytes()
    upload = SimpleUploadedFile(name, data)
    before = peak_memory_mb()
    started = time.perf_counter()
    try:
        if path == "upload":
            outcome = "accepted: " + uploads.check_upload(
                upload, allowed=uploads.DOCUMENTS | uploads.IMAGES, max_bytes=8 * MB
            )
        elif path == "import":
            imports.store_import_file(upload=upload, user=type("User", (), {"pk": 1})())
            outcome = "accepted"
        else:
            outcome = f"accepted: {images.process_logo(upload).size:,} bytes"
    except (ValidationError, imports.ImportFileError) as error:
        outcome = "refused: " + " ".join(getattr(error, "messages", [str(error)]))
    seconds = time.perf_counter() - started
    print(json.dumps({"mb": peak_memory_mb() - before, "s": seconds, "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--one", nargs=3, metavar=("PATH", "NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(*args.one)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thin_portal.settings")
    import django

    django.setup()  # the good files are built with the project's own columns
    print(f"{'file':40} {'path':7} {'size':>9} {'extra MB':>9} {'s':>6}  verdict      outcome")
    worst_mb = worst_s = 0.0
    with tempfile.TemporaryDirectory(prefix="thin-bench-hostile-") as folder:
        for label, path, name, build in _cases():
            if args.only and args.only not in label:
                continue
            data = build()
            file = Path(folder) / "case"
            file.write_bytes(data)
            result = subprocess.run(
                [sys.executable, __file__, "--one", path, name, str(file)],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=ROOT,
                check=False,
            )
            if result.returncode:
                print(f"{label:40} FAILED\n{result.stderr[-2000:]}")
                continue
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            ok = figures["mb"] < 100 and figures["s"] < 2
            if not label.startswith("good"):
                worst_mb, worst_s = max(worst_mb, figures["mb"]), max(worst_s, figures["s"])
            print(
                f"{label:40} {path:7} {len(data) / MB:8.2f}M {figures['mb']:9.1f} {figures['s']:6.2f}  "
                f"{verdict(ok):12} {figures['outcome'][:90]}"
            )
    print(f"\nWorst hostile file: {worst_mb:.1f} MB extra, {worst_s:.2f} s (target < 100 MB, < 2 s).")


if __name__ == "__main__":
    main()
