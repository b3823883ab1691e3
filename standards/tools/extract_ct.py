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
    "ROUTE": {
        "INTRAVENOUS",
        # Concomitant medications (visits/models.py CM_ROUTES).
        "ORAL",
        "SUBCUTANEOUS",
        "INTRAMUSCULAR",
        "TOPICAL",
        "TRANSDERMAL",
        "RESPIRATORY (INHALATION)",
        "NASAL",
        "RECTAL",
        "SUBLINGUAL",
        "OPHTHALMIC",
    },
    "STENRF": {"ONGOING"},
    "UNIT": {
        "mg/kg",
        "mg",
        "mm",  # lesion diameters (efficacy/sdtm.py)
        # Vital signs and local labs (visits/sdtm.py).
        "mmHg",
        "beats/min",
        "breaths/min",
        "C",
        "F",
        "%",
        "kg",
        "LB",
        "cm",
        "in",
        "10^9/L",
        "g/L",
        "g/dL",
        "mmol/L",
        "umol/L",
        "mg/dL",
        "U/L",
        "IU/L",
        "ukat/L",
        "mEq/L",
        "s",
        "RATIO",
        # Concomitant medication doses (visits/models.py CM_UNITS).
        "ug",
        "mL",
        "IU",
        "U",
        "mmol",
        "TABLET",
        "CAPSULE",
        "PUFF",
        "DROP",
        # ADA titers (pharmacology/sdtm.py IS).
        "titer",
        # ECG intervals (visits/sdtm.py EG).
        "ms",
        # Biomarkers (pharmacology/sdtm.py LB): pg/mL is submitted as ng/L, ng/mL as ug/L.
        "ng/L",
        "ug/L",
    },
    "VSRESU": {"mmHg", "beats/min", "breaths/min", "C", "F", "%", "kg", "LB", "cm", "in"},
    "VSTESTCD": {"SYSBP", "DIABP", "PULSE", "RESP", "TEMP", "OXYSAT", "WEIGHT", "HEIGHT"},
    "LBTESTCD": {
        "NEUT",
        "PLAT",
        "WBC",
        "LYM",
        "HGB",
        "ALT",
        "AST",
        "ALP",
        "GGT",
        "CK",
        "LDH",
        "LIPASET",
        "AMYLASE",
        "BILI",
        "CREAT",
        "K",
        "SODIUM",
        "BICARB",
        "CA",
        "CAION",
        "MG",
        "GLUC",
        "ALB",
        "CHOL",
        "TRIG",
        "URATE",
        "HAPTOG",
        "INR",
        "APTT",
        "PH",
        # Cytokines measured as biomarkers (pharmacology/sdtm.py LB).
        "INTLK2",
        "INTLK6",
        "INTLK10",
        "IFNG",
        "TNF",
    },
    "NRIND": ALL,
    # 12-lead ECG (visits/sdtm.py EG, docs/visits.md §9).
    "EGTESTCD": {"QTAG", "RRAG", "EGHRMN", "PRAG", "QRSAG", "QTCFAG", "INTP"},
    # Cancer history in MH (visits/sdtm.py, docs/visits.md §9).
    "MHEDTTYP": {"INITIAL DIAGNOSIS", "DIAGNOSIS"},
    "FREQ": {
        "EVERY 3 WEEKS",
        "EVERY 2 WEEKS",
        # Concomitant medications (visits/models.py CM_FREQUENCIES).
        "ONCE",
        "QD",
        "BID",
        "TID",
        "QID",
        "Q4H",
        "Q6H",
        "Q8H",
        "Q12H",
        "QOD",
        "EVERY WEEK",
        "PRN",
    },
    "FRM": {"INJECTION, SOLUTION"},
    "DOMAIN": {
        "AE",
        "DM",
        "DS",
        "EX",
        "IE",
        "LB",
        "SV",
        "TA",
        "TE",
        "TI",
        "TS",
        "TV",
        "VS",
        "CM",
        "MH",
        "TU",
        "TR",
        "RS",
        "PC",
        "PP",
        "IS",
        "EG",
        "PR",
        "SS",
    },  # fmt: skip
    # Pharmacokinetics and immunogenicity (pharmacology/sdtm.py, docs/pharmacology.md §11).
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
    # Tumours and responses (efficacy/sdtm.py, docs/efficacy.md §17)
    "TUTESTCD": {"TUMIDENT"},
    "TUIDRS": {"TARGET", "NON-TARGET", "NEW"},
    "LOC": {
        "LIVER",
        "LUNG",
        "BONE",
        "BRAIN",
        "LYMPH NODE",
        "MEDIASTINUM",
        "ADRENAL GLAND",
        "KIDNEY",
        "PERITONEUM",
        "PLEURA",
        "SKIN",
        "SPLEEN",
        "PANCREAS",
        "BREAST",
        "SOFT TISSUE",
        "PELVIS",
        "CHEST WALL",
        "STOMACH",
        "COLON",
        "HEAD AND NECK",
        "CERVICAL LYMPH NODE",
        "AXILLARY LYMPH NODE",
        "INGUINAL LYMPH NODE",
        "MEDIASTINAL LYMPH NODE",
    },  # fmt: skip
    "METHOD": {"CT SCAN", "MRI", "X-RAY", "CALIPER MEASUREMENT METHOD", "ULTRASOUND", "PET SCAN"},
    "TRTESTCD": {"LDIAM", "DIAMETER", "TUMSTATE"},
    "TRPROPRS": {"PRESENT", "ABSENT", "UNEQUIVOCAL", "EQUIVOCAL", "TUMOR MERGED"},
    "ONCRTSCD": {"OVRLRESP"},
    "ONCRSCAT": {"RECIST 1.1"},
    "ONCRSR": {"CR", "PR", "SD", "PD", "NE", "NON-CR/NON-PD"},
    "ND": ALL,
    # ECOG performance status in RS as a clinical classification, survival status in SS and
    # the survival follow-up's new anticancer therapy in CM (visits/sdtm.py, docs/visits.md §9).
    "ECOG1TC": ALL,
    "ECOG1TN": ALL,
    "ECOG101OR": ALL,
    "ECOG101STR": ALL,
    "CCCAT": {"ECOG"},
    "SSTESTCD": {"SURVSTAT"},
    "SSTATRS": ALL,
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
# TSPARM (test names) follows TSPARMCD term by term: same C-codes.
LINKED = {
    "TSPARM": "TSPARMCD",
    "VSTEST": "VSTESTCD",
    "LBTEST": "LBTESTCD",
    "TUTEST": "TUTESTCD",
    "TRTEST": "TRTESTCD",
    "ONCRTS": "ONCRTSCD",
    "PKPARM": "PKPARMCD",
    "ISTEST": "ISTESTCD",
    "EGTEST": "EGTESTCD",
    "SSTEST": "SSTESTCD",
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
