"""Efficacy endpoints of the trial: RECIST 1.1 responses, response rates and time-to-event.

The derivations live in `efficacy.rules` (plain Python, no Django); see docs/efficacy.md.
"""
