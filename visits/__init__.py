"""Visits: the visit schedule, vital signs, ECG, ECOG and local labs with their CTCAE grades.

Only the pure rules (`visits.rules`) exist so far; the Django app (models, services, pages) will
build its plain inputs from its rows and call them (docs/visits.md).
"""
