"""Plumbing every app shares and that has no domain of its own: upload checks (`uploads`, with
`archives` for zips and `xlsx_reader` for bounded spreadsheet reading), images, private files
(`files`), fetching partners' addresses safely (`outbound`), request parameters (`parameters`),
Markdown made safe (`text`), the one CSV/XLSX writer (`exports`), UK identifier fields (`fields`),
the form helper `forms.add_validation_errors`, generic admin helpers (`admin`) and the demo loader
command base (`management.demo_command`).

The lowest layer: core imports no project app.
"""
