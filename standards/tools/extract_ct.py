"""Extract the CDISC SDTM Controlled Terminology this product uses (run by hand).

    python -m standards.tools.extract_ct "SDTM Terminology.txt"

Input: NCI EVS's tab-delimited "SDTM Terminology.txt" of the pinned release (see
standards/ct/SOURCE.md). Output: standards/ct/sdtm-ct-<version>.tsv with the same columns, holding
each codelist's own row and the terms below: every term of the small codelists, only the terms
the product emits of the large extensible ones (units, routes, frequencies, dosage forms, domain
codes, trial summary parameters). Adding a domain that needs another codelist or term: add it to
USED and run this again against the same release.
"""

import csv
import sys

from standards.ct import CT_FILE

ALL = None
# Codelist short name -> the submission values used (ALL: the whole codelist).
USED: dict[str, set[str] | None] = {
    "NY": ALL,
    "SEX": ALL,
    "RACE": ALL,
    "ETHNIC": ALL,
    "AGEU": ALL,
    "ARMNULRS": ALL,
    "ACN": ALL,
    "OUT": ALL,
    "NCOMPLT": ALL,
    "PROTMLST": ALL,
    "DSCAT": ALL,
    "DSSCAT": ALL,
    "EPOCH": ALL,
    "IECAT": ALL,
    "TBLIND": ALL,
    "TPHASE": ALL,
    "STYPE": ALL,
    "TTYPE": ALL,
    "TCNTRL": ALL,
    "AESEV": ALL,
    "INTTYPE": ALL,
    "EVAL": {"INVESTIGATOR", "ADJUDICATION COMMITTEE"},
    "ROUTE": {"INTRAVENOUS"},
    "UNIT": {"mg/kg", "mg", "ng/L", "ug/L", "titer"},
    "FREQ": {"EVERY 3 WEEKS", "EVERY 2 WEEKS"},
    "FRM": {"INJECTION, SOLUTION"},
    "DOMAIN": {"AE", "DM", "DS", "EX", "IE", "SV", "TA", "TE", "TI", "TS", "TV"}
    | {"PC", "PP", "IS", "LB"},
    # Pharmacokinetics, immunogenicity and biomarkers (pharmacology/sdtm.py).
    "PKPARMCD": {
        "CMAX",
        "TMAX",
        "CLST",
        "TLST",
        "AUCLST",
        "AUCALL",
        "AUCTAU",
        "CAVG",
        "CTROUGH",
        "LAMZ",
        "LAMZHL",
        "R2",
        "R2ADJ",
        "LAMZSPN",
        "LAMZNPT",
        "AUCIFO",
        "AUCPEO",
        "AUMCLST",
        "AUMCIFO",
        "CLO",
        "CLTAU",
        "VZO",
        "VZTAU",
        "VSSO",
        "ARAUC",
        "ARCMAX",
        "ARCTROUG",
    },  # fmt: skip
    "PKUNIT": {"ug/mL", "h", "h*ug/mL", "h2*ug/mL", "/h", "L/h", "L", "%"},
    "SPECTYPE": {"SERUM", "PLASMA"},
    "ISTESTCD": {"ADA_BAB", "ADA_NAB"},
    "TSTOPOBJ": ALL,
    "LBTESTCD": {"IFNG", "INTLK2", "INTLK6", "INTLK10", "TNF"},
    "ND": ALL,
    "TSPARMCD": {
        "ACTSUB",
        "ADDON",
        "AGEMIN",
        "DCUTDTC",
        "DOSFRQ",
        "DOSU",
        "INTTYPE",
        "NARMS",
        "RANDOM",
        "ROUTE",
        "SDTIGVER",
        "SDTMVER",
        "SPONSOR",
        "SSTDTC",
        "STYPE",
        "TBLIND",
        "TCNTRL",
        "TITLE",
        "TPHASE",
        "TRT",
        "TTYPE",
    },
}
# Test names follow their codes term by term: same C-codes.
LINKED = {
    "TSPARM": "TSPARMCD",
    "PKPARM": "PKPARMCD",
    "ISTEST": "ISTESTCD",
    "LBTEST": "LBTESTCD",
}


def main(source: str) -> None:
    with open(source, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        rows = list(reader)
    codelists = {r[4]: r for r in rows if r[1] == ""}
    by_codelist: dict[str, list[list[str]]] = {}
    for row in rows:
        if row[1]:
            by_codelist.setdefault(row[1], []).append(row)
    wanted_codes: dict[str, set[str] | None] = {}
    for name, values in USED.items():
        code = codelists[name][0]
        if values is None:
            wanted_codes[code] = None
        else:
            terms = {r[4]: r[0] for r in by_codelist[code]}
            missing = values - set(terms)
            if missing:
                raise SystemExit(f"{name}: not in this release: {sorted(missing)}")
            wanted_codes[code] = {terms[v] for v in values}
    for name, follows in LINKED.items():
        wanted_codes[codelists[name][0]] = wanted_codes[codelists[follows][0]]
    out = []
    for code, term_codes in wanted_codes.items():
        out.append(next(r for r in rows if r[0] == code and r[1] == ""))
        for row in sorted(by_codelist[code], key=lambda r: r[4]):
            if term_codes is None or row[0] in term_codes:
                out.append(row)
    with CT_FILE.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(out)
    print(f"{len(wanted_codes)} codelists, {len(out) - len(wanted_codes)} terms -> {CT_FILE}")


if __name__ == "__main__":
    main(sys.argv[1])
