"""Benchmark of the 360Giving grants import (issue 17, item 3) on a big funder's file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/grants_import.py [--grants N] [--rows N]

Generates, in a child process (so its memory is not counted), a 360Giving JSON data package of 100,000
grants (a third to organisations in the database, by org-id) and the standard's CSV of 20,000 rows.
Then, in a database of its own (thin_bench_grants_import, dropped at the end) holding 3,000
organisations, it measures in the same run:

- baselines: reading the package alone (ijson, a grant at a time) and the schema check alone
  (jsonschema on every grant, as read);
- the import (check, then write in one transaction), a second import of the same file (every grant
  updated), and the CSV's import through flattentool;

and prints grants/s, the ratios to the baselines and the peak memory of this process and of its
largest child (flattentool runs in one of its own). Targets: peak RSS
< 300 MB, minutes not hours. The machine may be shared: figures are noisy.
"""

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import bench_database, peak_memory_mb

BENCH_DB = "thin_bench_grants_import"
VAR_DIR = "/tmp/thin-bench-grants-import-var"
GRANTS = 100_000
ROWS = 20_000
ORGANISATIONS = 3000
SEED = 17
FUNDERS = [("GB-CHC-1005193", "City Bridge Trust"), ("GB-GOR-PB188", "The National Lottery Community Fund")]
WARDS = ["Bow East", "Bow West", "Poplar", "Mile End", "Stepney Green", "Somewhere Else"]
WORDS = "community youth arts food bank advice older people women refugees garden music sports health".split()


def charity_number(index: int) -> str:
    return str(1_100_000 + index)


def grant(rng: random.Random, number: int) -> dict:
    funder_id, funder_name = rng.choice(FUNDERS)
    if rng.random() < 1 / 3:
        recipient = {"id": f"GB-CHC-{charity_number(rng.randrange(1000))}", "name": "A charity in the database"}
    else:
        recipient = {"id": f"GB-CHC-{2_000_000 + number}", "name": f"Elsewhere Trust {number}"}
    data = {
        "id": f"360G-bench-{number:07d}",
        "title": " ".join(rng.choice(WORDS) for _ in range(4)).capitalize(),
        "description": " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 40))),
        "currency": "GBP",
        "amountAwarded": rng.choice([500, 1000, 2500, 5000, 10000, 25000]) + rng.randint(0, 99) / 100,
        "awardDate": f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "recipientOrganization": [recipient],
        "fundingOrganization": [{"id": funder_id, "name": funder_name}],
        "grantProgramme": [{"title": rng.choice(["Small Grants", "Bridging Divides", "Awards for All"])}],
        "beneficiaryLocation": [{"name": rng.choice(WARDS), "countryCode": "GB"}],
        "dateModified": "2025-06-01T09:00:00+00:00",
    }
    return data


def generate(folder: Path, grants: int, rows: int) -> None:
    rng = random.Random(SEED)
    with (folder / "grants.json").open("w", encoding="utf-8") as handle:
        handle.write('{"version": "1.4", "license": "https://creativecommons.org/licenses/by/4.0/", "grants": [\n')
        for number in range(grants):
            handle.write(("," if number else "") + json.dumps(grant(rng, number)) + "\n")
        handle.write("]}\n")
    titles = [
        "Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
        "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
        "Grant Programme:Title", "Beneficiary Location:Name",
    ]  # fmt: skip
    with (folder / "grants.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(titles)
        for number in range(rows):
            data = grant(rng, number)
            writer.writerow(
                [
                    data["id"].replace("bench", "bench-csv"), data["title"], data["description"], "GBP",
                    data["amountAwarded"], data["awardDate"], data["recipientOrganization"][0]["id"],
                    data["recipientOrganization"][0]["name"], data["fundingOrganization"][0]["id"],
                    data["fundingOrganization"][0]["name"], data["grantProgramme"][0]["title"],
                    data["beneficiaryLocation"][0]["name"],
                ]
            )  # fmt: skip


def build_directory() -> None:
    from organisations.models import Organisation

    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"Organisation {index}",
                slug=f"organisation-{index}",
                charity_number=charity_number(index) if index < 1000 else "",
            )
            for index in range(ORGANISATIONS)
        ]
    )


def timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def import_once(path: Path):
    from evidence import grants_import
    from evidence.models import GrantImport

    grant_import = GrantImport.objects.create(files=path.name, status=GrantImport.Status.CHECKING)
    grants_import.run_import(grant_import, paths=[path])
    if grant_import.status != GrantImport.Status.READY:
        sys.exit(f"The import of {path.name} failed: {grant_import.error}\n" + "\n".join(grant_import.problems[:10]))
    return grant_import.counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grants", type=int, default=GRANTS)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.grants, args.rows)
        return
    with tempfile.TemporaryDirectory(prefix="grants-import-bench-") as folder:
        started = time.perf_counter()
        command = [
            sys.executable,
            __file__,
            "--generate",
            folder,
            "--grants",
            str(args.grants),
            "--rows",
            str(args.rows),
        ]
        subprocess.run(command, check=True)
        package, spreadsheet = Path(folder) / "grants.json", Path(folder) / "grants.csv"
        print(
            f"Generated {args.grants:,} grants ({package.stat().st_size / 2**20:.1f} MB of JSON) and a CSV of "
            f"{args.rows:,} rows ({spreadsheet.stat().st_size / 2**20:.1f} MB) in {time.perf_counter() - started:.1f} s"
        )
        with bench_database(BENCH_DB, var_dir=VAR_DIR):
            from evidence import grants_import
            from evidence.models import Grant

            build_directory()
            before = peak_memory_mb()
            count, parse_s = timed(lambda: sum(1 for _grant in grants_import.read_grants(package)))
            validator = grants_import._validator()
            invalid, schema_s = timed(
                lambda: sum(1 for item in grants_import.read_grants(package) if not validator.is_valid(item))
            )
            assert count == args.grants and invalid == 0, (count, invalid)
            counts, import_s = timed(lambda: import_once(package))
            peak_json = peak_memory_mb()
            again, reimport_s = timed(lambda: import_once(package))
            assert again["updated"] == args.grants and Grant.objects.count() == args.grants
            peak_reimport = peak_memory_mb()
            rows, csv_s = timed(lambda: import_once(spreadsheet))
            peak_csv = peak_memory_mb()
            # flattentool runs in a child process (evidence/unflatten_360giving.py); so did the generator.
            peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

            rate = args.grants / import_s
            print("Baselines (same run):")
            print(f"  reading the package alone (ijson): {parse_s:.1f} s, {args.grants / parse_s:,.0f} grants/s")
            print(
                f"  reading + schema check alone (jsonschema): {schema_s:.1f} s, {args.grants / schema_s:,.0f} grants/s"
            )
            print(
                f"Import of {args.grants:,} grants (check, then write): {import_s:.1f} s, {rate:,.0f} grants/s; "
                f"{import_s / parse_s:.1f}x reading alone, {import_s / schema_s:.2f}x reading + schema check"
            )
            print(f"  counts: {counts}")
            print(
                f"Import of the same file again (all {again['updated']:,} updated): {reimport_s:.1f} s, "
                f"{args.grants / reimport_s:,.0f} grants/s; {reimport_s / import_s:.2f}x the first import"
            )
            print(
                f"CSV of {args.rows:,} rows through flattentool: {csv_s:.1f} s, {args.rows / csv_s:,.0f} rows/s "
                f"({rate / (args.rows / csv_s):.1f}x slower per grant than JSON); matched {rows['matched']:,}"
            )
            verdict = "OK" if max(peak_json, peak_reimport, peak_csv, peak_children) < 300 else "OVER TARGET"
            print(
                f"Peak memory (RSS): {before:.0f} MB before; {peak_json:.0f} MB after the JSON import, "
                f"{peak_reimport:.0f} MB after the re-import, {peak_csv:.0f} MB after the CSV; the largest child "
                f"process (flattentool, or the file generator): {peak_children:.0f} MB; target < 300 MB: {verdict}"
            )


if __name__ == "__main__":
    main()
