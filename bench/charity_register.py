"""Benchmark of the Charity Commission register import (issue 17, item 2) on a register-sized extract.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/charity_register.py [--charities N]

Generates, in a child process (so its memory is not counted), an extract in the public shape: 170,000
charities (and a linked subsidiary for one in fifty), three areas of operation and three
classifications each, as publicextract.<table>.zip in a temporary folder. Then, in a database of its
own (thin_bench_charity_register, dropped at the end) holding 3,000 organisations (1,000 with charity
numbers on the register, 2,000 without, some with names on it), it runs the import as the admin's task
does and prints rows/s and this process's peak memory. Targets: peak RSS < 300 MB, a few minutes.
"""

import argparse
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from harness import bench_database, peak_memory_mb

BENCH_DB = "thin_bench_charity_register"
VAR_DIR = "/tmp/thin-bench-charity-register-var"
CHARITIES = 170_000
SEED = 17
WORDS = [
    "community",
    "trust",
    "youth",
    "arts",
    "bow",
    "poplar",
    "stepney",
    "education",
    "welfare",
    "relief",
    "poverty",
    "elderly",
    "children",
    "music",
    "sports",
    "health",
    "women",
    "refugees",
    "bangladeshi",
    "somali",
    "housing",
    "advice",
    "food",
    "bank",
    "garden",
    "library",
    "mosque",
    "church",
    "school",
    "parents",
    "friends",
    "association",
    "society",
    "foundation",
    "centre",
    "club",
    "theatre",
    "heritage",
    "history",
]
DISTRICTS = ["E1", "E2", "E3", "E14", "N1", "SE1", "M1", "LS1", "B1", "BS1", "CF10", "EH1"] + [
    f"X{n}" for n in range(60)
]
AREAS = ["Tower Hamlets", "Hackney", "Newham", "Leeds", "Manchester", "Birmingham", "Throughout England"] + [
    f"Area {n}" for n in range(300)
]
CHARITY_HEADER = [
    "date_of_extract",
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "charity_name",
    "charity_type",
    "charity_registration_status",
    "date_of_registration",
    "date_of_removal",
    "charity_reporting_status",
    "latest_acc_fin_period_start_date",
    "latest_acc_fin_period_end_date",
    "latest_income",
    "latest_expenditure",
    "charity_contact_address1",
    "charity_contact_address2",
    "charity_contact_address3",
    "charity_contact_address4",
    "charity_contact_address5",
    "charity_contact_postcode",
    "charity_contact_phone",
    "charity_contact_email",
    "charity_contact_web",
    "charity_company_registration_number",
    "charity_insolvent",
    "charity_in_administration",
    "charity_previously_excepted",
    "charity_is_cdf_or_cif",
    "charity_is_cio",
    "cio_is_dissolved",
    "date_cio_dissolution_notice",
    "charity_activities",
    "charity_gift_aid",
    "charity_has_land",
]
AREA_HEADER = [
    "date_of_extract",
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "geographic_area_type",
    "geographic_area_description",
    "parent_geographic_area_type",
    "parent_geographic_area_description",
    "welsh_ind",
]
CLASSIFICATION_HEADER = [
    "date_of_extract",
    "organisation_number",
    "registered_charity_number",
    "linked_charity_number",
    "classification_code",
    "classification_type",
    "classification_description",
]


def charity_name(rng: random.Random, number: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(3)).upper() + f" {number % 9973}"


def generate(folder: Path, charities: int) -> None:
    rng = random.Random(SEED)
    tables = {
        "charity": CHARITY_HEADER,
        "charity_area_of_operation": AREA_HEADER,
        "charity_classification": CLASSIFICATION_HEADER,
    }
    archives = {
        table: zipfile.ZipFile(folder / f"publicextract.{table}.zip", "w", zipfile.ZIP_DEFLATED) for table in tables
    }
    handles = {table: archives[table].open(f"publicextract.{table}.txt", "w", force_zip64=True) for table in tables}
    for table, header in tables.items():
        handles[table].write(("\t".join(header) + "\r\n").encode())
    for index in range(charities):
        number = 200_000 + index
        for linked in (0, 1) if index % 50 == 0 else (0,):
            removed = rng.random() < 0.1
            activities = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))
            if rng.random() < 0.05:
                activities += "\r\n\tA second line of activities."
            row = {
                "date_of_extract": "2025-06-01",
                "organisation_number": str(number * 3),
                "registered_charity_number": str(number),
                "linked_charity_number": str(linked),
                "charity_name": charity_name(rng, number),
                "charity_type": rng.choice(["Other", "CIO", "Charitable company", "Trust"]),
                "charity_registration_status": "Removed" if removed else "Registered",
                "date_of_registration": f"{rng.randint(1961, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 00:00:00",
                "date_of_removal": "2023-05-05 00:00:00" if removed else "",
                "charity_reporting_status": "Submission Received",
                "latest_acc_fin_period_start_date": "2024-04-01 00:00:00",
                "latest_acc_fin_period_end_date": "2025-03-31 00:00:00",
                "latest_income": f"{rng.lognormvariate(10, 2.5):.2f}",
                "latest_expenditure": f"{rng.lognormvariate(10, 2.5):.2f}",
                "charity_contact_address1": f"{rng.randint(1, 300)} {rng.choice(WORDS).title()} Road",
                "charity_contact_postcode": f"{rng.choice(DISTRICTS)} {rng.randint(1, 9)}{rng.choice('ABDEFGH')}{rng.choice('JLNPQRS')}",
                "charity_contact_phone": f"020 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "charity_contact_email": f"info@charity{number}.org.uk",
                "charity_contact_web": f"www.charity{number}.org.uk" if rng.random() < 0.6 else "",
                "charity_insolvent": "True" if rng.random() < 0.002 else "False",
                "charity_in_administration": "False",
                "charity_previously_excepted": "False",
                "charity_is_cdf_or_cif": "",
                "charity_is_cio": "False",
                "cio_is_dissolved": "False",
                "charity_activities": activities,
                "charity_gift_aid": "True",
                "charity_has_land": "False",
            }
            handles["charity"].write(("\t".join(row.get(name, "") for name in CHARITY_HEADER) + "\r\n").encode())
            for _ in range(3):
                handles["charity_area_of_operation"].write(
                    "\t".join(
                        [
                            "2025-06-01",
                            str(number * 3),
                            str(number),
                            str(linked),
                            "Local Authority",
                            rng.choice(AREAS),
                            "Region",
                            "London",
                            "False",
                        ]
                    ).encode()
                    + b"\r\n"
                )
                handles["charity_classification"].write(
                    "\t".join(
                        [
                            "2025-06-01",
                            str(number * 3),
                            str(number),
                            str(linked),
                            str(rng.randint(101, 399)),
                            rng.choice(["What", "Who", "How"]),
                            rng.choice(WORDS).title() + " and " + rng.choice(WORDS),
                        ]
                    ).encode()
                    + b"\r\n"
                )
    for table in tables:
        handles[table].close()
        archives[table].close()


def build_directory() -> None:
    from organisations.models import Organisation

    rng = random.Random(SEED)
    organisations = []
    for index in range(3000):
        numbered = index < 1000
        number = 200_000 + rng.randrange(CHARITIES)
        organisations.append(
            Organisation(
                name=charity_name(random.Random(SEED + index), number).title() if numbered else f"Local Group {index}",
                slug=f"organisation-{index}",
                charity_number=str(number) if numbered else "",
                development_stage=rng.choice([1, 2, 3, None]),
            )
        )
    Organisation.objects.bulk_create(organisations, ignore_conflicts=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--charities", type=int, default=CHARITIES)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.charities)
        return
    with tempfile.TemporaryDirectory(prefix="charity-register-bench-") as folder:
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate", folder, "--charities", str(args.charities)], check=True)
        sizes = {path.name: path.stat().st_size for path in Path(folder).iterdir()}
        print(
            f"Generated {args.charities:,} charities in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{name} {size / 2**20:.1f} MB" for name, size in sorted(sizes.items()))
        )
        with bench_database(BENCH_DB, var_dir=VAR_DIR):
            from organisations import charity_register
            from organisations.models import CharityRegisterImport

            build_directory()
            baseline = peak_memory_mb()
            register_import = CharityRegisterImport.objects.create(status=CharityRegisterImport.Status.CHECKING)
            started = time.perf_counter()
            charity_register.run_import(register_import=register_import, paths=[Path(folder)], by=None)
            seconds = time.perf_counter() - started
            peak = peak_memory_mb()
            if register_import.status != CharityRegisterImport.Status.READY:
                sys.exit(f"The import failed: {register_import.error}")
            counts = register_import.counts
            rows = sum(counts["rows"].values())
            print(
                f"Rows read: {rows:,} ({', '.join(f'{t} {n:,}' for t, n in counts['rows'].items())}), each table twice for charity"
            )
            print(
                f"Import: {seconds:.1f} s, {counts['rows']['charity'] / seconds:,.0f} charity rows/s, {rows / seconds:,.0f} rows/s over all tables"
            )
            print(
                f"Peak memory (RSS): {peak:.0f} MB (before the import: {baseline:.0f} MB); target < 300 MB: {'OK' if peak < 300 else 'OVER TARGET'}"
            )
            print(
                f"Borough charities: {counts['borough']:,}; matched by number: {counts['matched']:,}; findings: {counts['findings']}"
            )


if __name__ == "__main__":
    main()
