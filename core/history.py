"""The audit trail in words: each record's history rows as readable changes (field labels, old
and new values, related rows by name), for the casebook and the stale-edit notices.

The rows themselves come from `core.records.history_for_rows` (django-simple-history); this module
only formats them. A model whose printed name follows foreign keys declares them as
`history_label_related` so the labels are read in one query per field.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from core.records import history_for_rows


@dataclass
class RecordHistory:
    label: str
    anchor: str
    entries: list[dict]


def _labels_for(model, rows_changes: list[dict]) -> dict:
    """Resolve foreign-key ids in history changes to readable labels, one query per field."""
    ids: dict[str, set] = defaultdict(set)
    for change in rows_changes:
        try:
            field_obj = model._meta.get_field(change["field"])
        except Exception:  # not a model field
            continue
        if not field_obj.is_relation:
            continue
        for value in (change["old"], change["new"]):
            if value is not None:
                ids[change["field"]].add(value)
    resolved: dict[tuple[str, object], str] = {}
    for name, values in ids.items():
        field_obj = model._meta.get_field(name)
        related = field_obj.related_model
        manager = getattr(related, "all_objects", related.objects)
        queryset = manager.filter(pk__in=values)
        # A model whose label follows its foreign keys names them (e.g. Cohort's dose level).
        joins = getattr(related, "history_label_related", ())
        if joins:
            queryset = queryset.select_related(*joins)
        for obj in queryset:
            resolved[(name, obj.pk)] = str(obj)
    return resolved


def format_value(model, name: str, value, labels: dict | None = None) -> str:
    if value is None or value == "" or value == []:
        return "\u2014"
    if isinstance(value, list):  # a list of coded values (a subject's races)
        return ", ".join(str(v) for v in value)
    try:
        field_obj = model._meta.get_field(name)
    except Exception:  # not a model field (e.g. a derived one)
        field_obj = None
    if labels and (name, value) in labels:
        return labels[(name, value)]
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field_obj is not None and getattr(field_obj, "choices", None):
        return str(dict(field_obj.flatchoices).get(value, value))
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {'yes' if v else 'no'}" for k, v in value.items())
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    return str(value)


def field_label(model, name: str) -> str:
    try:
        label = str(model._meta.get_field(name).verbose_name)
    except Exception:
        label = name.replace("_", " ")
    return label[:1].upper() + label[1:]


def describe_changes(model, changes: list[dict], labels: dict | None = None) -> list[dict]:
    """Changes as readable rows: field label, old and new values."""
    if labels is None:
        labels = _labels_for(model, changes)
    out = []
    for change in changes:
        name = change["field"]
        old, new = change["old"], change["new"]
        if isinstance(old, dict) and isinstance(new, dict):
            keys = [k for k in {**old, **new} if old.get(k) != new.get(k)]
            for key in keys:
                out.append(
                    {
                        "field": f"{field_label(model, name)}: {key}",
                        "old": format_value(model, "", old.get(key)),
                        "new": format_value(model, "", new.get(key)),
                    }
                )
            continue
        out.append(
            {
                "field": field_label(model, name),
                "old": format_value(model, name, old, labels),
                "new": format_value(model, name, new, labels),
            }
        )
    return out


# Bookkeeping, not data entered: left out of the values a "created" entry lists.
NOT_ENTERED = {
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "voided_at",
    "voided_by",
    "void_reason",
    "subject",
    "study",
}


def initial_values(model, row) -> list[dict]:
    """What was first entered, as changes from nothing: every data field of the record's first
    history row that holds a value."""
    values = []
    for field_obj in model._meta.concrete_fields:
        if field_obj.name in NOT_ENTERED:
            continue
        value = getattr(row, field_obj.attname, None)
        if value is None or value is False or value in ("", {}, []):
            continue
        values.append({"field": field_obj.name, "old": None, "new": value})
    return values


def record_histories(model, rows, record_label) -> list[RecordHistory]:
    """One RecordHistory per record among the history rows, with readable changes; a
    "created" entry lists the values first entered."""
    rows = list(rows.select_related("history_user").order_by("history_id"))
    entries = history_for_rows(rows)
    for entry, row in zip(entries, rows, strict=True):
        if entry["type"] == "created":
            entry["changes"] = initial_values(model, row)
            entry["initial"] = True
    labels = _labels_for(model, [c for e in entries for c in e["changes"]])
    grouped: dict[int, list[dict]] = defaultdict(list)
    for entry in entries:
        entry["changes"] = describe_changes(model, entry["changes"], labels)
        grouped[entry["record_id"]].append(entry)
    return [
        RecordHistory(
            label=record_label(record_id),
            anchor=f"history-{model._meta.model_name}-{record_id}",
            entries=list(reversed(items)),
        )
        for record_id, items in grouped.items()
    ]
