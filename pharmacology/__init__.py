"""Pharmacokinetics, immunogenicity and biomarkers. `pharmacology.rules` is the pure core."""
