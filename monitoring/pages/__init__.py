"""The medical monitor's pages, one module per page, over the selectors of the apps that own
the data (`escalation.selectors`, `safety.selectors`, `subjects.selectors`).

Each page function runs a fixed number of queries whatever the number of subjects, doses or
adverse events: rows are joined, prefetched or aggregated once, then grouped in Python. The
computations themselves (AE tables, chart geometry) are plain functions in `monitoring.tables`
and `monitoring.charts`.
"""
