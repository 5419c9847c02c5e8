"""flattentool's unflatten of a 360Giving spreadsheet, in a process of its own.

    python -P evidence/unflatten_360giving.py SOURCE FORMAT OUTPUT SCHEMA [CELL_MAP HEADING_MAP]

flattentool holds the whole sheet, and what it makes of it, in memory (some 50 MB for 5,000 rows, twice
that with its source maps): run here, that memory goes back to the system when the process ends, and the
worker importing the file stays small. The process may use at most MAX_ADDRESS_SPACE; it prints one
line of JSON, {"ok": true} or {"error": "..."}. No Django here: only flattentool.
"""

import json
import resource
import sys
import warnings

MAX_ADDRESS_SPACE = 2 * 1024**3


def main(argv: list[str]) -> int:
    source, input_format, output, schema, *maps = argv
    resource.setrlimit(resource.RLIMIT_AS, (MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE))
    import flattentool

    extra = {"cell_source_map": maps[0], "heading_source_map": maps[1]} if maps else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flattentool warns of what the schema check reports row by row
        try:
            flattentool.unflatten(
                source,
                input_format=input_format,
                output_name=output,
                root_list_path="grants",
                root_id="",
                id_name="id",
                schema=schema,
                convert_titles=True,
                encoding="utf-8-sig",
                **extra,
            )
        except MemoryError:
            print(json.dumps({"error": "the spreadsheet needs more memory than an import may use"}))
            return 1
        except Exception as error:  # noqa: BLE001 (any failure inside flattentool is a file it cannot read)
            print(json.dumps({"error": f"{error.__class__.__name__}: {error}"[:300]}))
            return 1
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
