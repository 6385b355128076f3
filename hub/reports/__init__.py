"""Reports a camat can use: figures of a day, week, month or any range, read from the event log.

`figures` computes every figure (one code path, also for the admin's live figures of today),
`tables` lays them out as the tables every format shows, `pdf` prints the monthly report,
`export` writes CSV and XLSX, `extension` serves the report page, `cli` is `antrian report`.
"""
