"""SDTM VS and LB (filled in with the SDTM slice)."""
