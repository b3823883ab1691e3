"""The base every clinical record stands on: versioned, audited, voided but never deleted.

docs/audit.md §1-§2 (21 CFR Part 11, ICH E6(R3)): every create, update and void records who,
when (UTC), old and new values (a full snapshot per change, compared row to row) and why.
Writes go through `core.records`; a save without a reason on an existing record, a delete or a
bulk update is refused here as a last line of defence for any path that skips the services.
"""

from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, FieldError, ValidationError
from django.db import DatabaseError, models, router, transaction
from django.db.models import BooleanField, CheckConstraint, Q, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import ExpressionWrapper
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE
from simple_history.models import HistoricalRecords


def _constraints_to_validate(model_class, constraints, instance, exclude, using) -> list:
    """The constraints whose own check must run: every unique constraint, and of the check
    constraints only those one query finds broken.

    Django checks each check constraint with a query of its own inside a savepoint (three
    statements each; a clinical record has up to a dozen). Here all of them are evaluated in one
    SELECT, with Django's own semantics (a NULL condition passes, as in the database); a broken
    one is then checked again by Django, so the refusal and its message are exactly Django's.
    A constraint on an excluded field, or a query the database refuses, falls back to Django's
    check one by one."""
    checks = [c for c in constraints if isinstance(c, CheckConstraint)]
    if len(checks) < 2:
        return list(constraints)
    against = instance._get_field_expression_map(meta=model_class._meta, exclude=exclude)
    batched = [c for c in checks if Q(c.condition).referenced_base_fields <= against.keys()]
    if not batched:
        return list(constraints)
    query = Query(None)
    for name, value in against.items():
        query.add_annotation(
            value if hasattr(value, "resolve_expression") else Value(value), name, select=False
        )
    try:
        for index, constraint in enumerate(batched):
            condition = ExpressionWrapper(Q(constraint.condition), output_field=BooleanField())
            query.add_annotation(
                Coalesce(condition, True, output_field=BooleanField()), f"_check_{index}"
            )
    except FieldError:
        return list(constraints)
    try:
        with transaction.atomic(using=using):
            row = query.get_compiler(using=using).execute_sql(SINGLE)
    except DatabaseError:
        return list(constraints)
    passed = {id(c) for c, ok in zip(batched, row, strict=True) if ok}
    # In their declared order, so the messages read as Django would list them.
    return [c for c in constraints if id(c) not in passed]


class ClinicalDataProtected(Exception):
    """Clinical data was about to be deleted, bulk-updated or edited without a reason."""


class ClinicalRecordQuerySet(models.QuerySet):
    def delete(self):
        raise ClinicalDataProtected(
            f"{self.model._meta.verbose_name_plural} are voided with a reason, never deleted."
        )

    delete.queryset_only = True

    def update(self, **kwargs):
        # A bulk UPDATE would bypass the audit trail and the version column.
        raise ClinicalDataProtected(
            f"{self.model._meta.verbose_name_plural} are changed one at a time through a service "
            "so that every change is audited."
        )

    def active(self):
        return self.filter(voided_at__isnull=True)


class ActiveRecordManager(models.Manager.from_queryset(ClinicalRecordQuerySet)):
    """Default manager: voided records are hidden from everyday reads and rule evaluation."""

    def get_queryset(self):
        return super().get_queryset().filter(voided_at__isnull=True)


AllRecordsManager = models.Manager.from_queryset(ClinicalRecordQuerySet)


class ClinicalRecord(models.Model):
    version = models.PositiveIntegerField(
        default=1,
        editable=False,
        help_text="Raised by one on every change; an edit based on an older version is refused.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    void_reason = models.TextField(blank=True, editable=False)

    history = HistoricalRecords(inherit=True)

    objects = ActiveRecordManager()
    all_objects = AllRecordsManager()

    # Constraint name -> what breaking it means, in the user's words (the field is worked out
    # from what the edit changed). A constraint without an entry still gets a readable message:
    # Django's "Constraint ... is violated" never reaches a user.
    constraint_messages: dict[str, str] = {}

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    def save(self, *args, **kwargs):
        if not self._state.adding and not getattr(self, "_change_reason", None):
            raise ClinicalDataProtected(
                f"A change to {self._meta.verbose_name} {self.pk} needs a reason; "
                "use the service for this record."
            )
        try:
            super().save(*args, **kwargs)
        finally:
            # simple-history reads these in post_save; clear them so that a later save of the
            # same instance cannot reuse an old reason or user.
            self.__dict__.pop("_change_reason", None)
            self.__dict__.pop("_history_user", None)

    def clean_fields(self, exclude=None):
        # PostgreSQL refuses NUL in text; refuse it here with a message that names the field.
        errors = {}
        for field in self._meta.concrete_fields:
            value = getattr(self, field.attname, None)
            if isinstance(value, str) and "\x00" in value:
                errors[field.name] = ["Null characters are not allowed."]
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = {**error.message_dict, **errors}
        if errors:
            raise ValidationError(errors)

    # Constraint name -> the field its refusal is shown on. The message is the constraint's own
    # `violation_error_message`, so a refusal that reaches a page names the field and the rule,
    # never "Constraint ... is violated" (every constraint of a clinical record has both; a test
    # walks them).
    constraint_fields: ClassVar[dict[str, str]] = {}

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected(
            f"{self._meta.verbose_name} records are voided with a reason, never deleted."
        )

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # The values as read, so a refused constraint is reported on the field the edit changed.
        instance._loaded_values = dict(zip(field_names, values, strict=False))
        return instance

    def validate_constraints(self, exclude=None):
        """Django's check of the table constraints, each refusal on a field with a message a
        person can act on."""
        using = router.db_for_write(type(self), instance=self)
        errors: dict[str, list[ValidationError]] = {}
        for model_class, constraints in self.get_constraints():
            for constraint in _constraints_to_validate(
                model_class, constraints, self, exclude, using
            ):
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as error:
                    field, message = self._constraint_refusal(constraint, error)
                    errors.setdefault(field, []).append(
                        ValidationError(message, code=getattr(error, "code", None) or "invalid")
                    )
        if errors:
            raise ValidationError(errors)

    def _constraint_refusal(self, constraint, error: ValidationError) -> tuple[str, str]:
        # On a correction, the field the edit changed (the model's own choice among them first);
        # on a new record, the field the model names for the constraint.
        names = [n for n in _constraint_fields(constraint) if n not in ("id", "pk", "status")]
        mapped = self.constraint_fields.get(constraint.name)
        changed = [name for name in names if self._changed(name)]
        if getattr(self, "_loaded_values", None) is not None and changed:
            field = mapped if mapped in changed else changed[0]
        else:
            field = mapped or (names[0] if names else NON_FIELD_ERRORS)
        message = self.constraint_messages.get(constraint.name)
        if message is None and getattr(error, "code", None) == "unique":
            message = " ".join(error.messages)  # Django's own: "... with this ... already exists."
        if message is None and constraint.violation_error_message not in (
            None,
            constraint.default_violation_error_message,
        ):
            message = str(constraint.violation_error_message)
        if message is None:
            rule = constraint.name.replace("_", " ")
            message = f"This value does not fit the rest of the record (rule: {rule})."
        return field, message

    def _changed(self, name: str) -> bool:
        loaded = getattr(self, "_loaded_values", None)
        if loaded is None:
            return True  # a new record: everything it holds is new
        try:
            attname = self._meta.get_field(name).attname
        except Exception:
            return False
        return attname in loaded and loaded[attname] != getattr(self, attname, None)


def _constraint_fields(constraint) -> list[str]:
    """The model fields a constraint names, in order (from its fields, condition, expressions)."""
    names: list[str] = list(getattr(constraint, "fields", ()) or ())

    def walk(node) -> None:
        if isinstance(node, models.Q):
            for child in node.children:
                walk(child)
        elif isinstance(node, tuple) and len(node) == 2 and isinstance(node[0], str):
            names.append(node[0].split(LOOKUP_SEP)[0])
            walk(node[1])
        elif isinstance(node, models.F):
            names.append(node.name.split(LOOKUP_SEP)[0])
        elif hasattr(node, "get_source_expressions"):
            for expression in node.get_source_expressions():
                walk(expression)

    walk(getattr(constraint, "condition", None))
    for expression in getattr(constraint, "expressions", ()) or ():
        walk(expression)
    return list(dict.fromkeys(names))


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.70): printed name, UTC time, meaning, linked to
    the exact version of the signed record. Editing the record later invalidates the signature,
    which stays on record with when and why."""

    class Meaning(models.TextChoices):
        APPROVED = "approved", "Approved"
        REVIEWED = "reviewed", "Reviewed"
        AUTHORED = "authored", "Authored"

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=300)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    signed_at = models.DateTimeField()
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    record_version = models.PositiveIntegerField()
    record_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the signed record's content at signing."
    )
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidation_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(printed_name=""),
                name="signature_printed_name_required",
                violation_error_message="A signature carries the signer's printed name.",
            ),
            models.CheckConstraint(
                condition=models.Q(invalidated_at__isnull=True) | ~models.Q(invalidation_reason=""),
                name="signature_invalidation_has_reason",
                violation_error_message="An invalidated signature records why.",
            ),
        ]

    def __str__(self):
        return f"{self.printed_name}, {self.get_meaning_display()}, {self.signed_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_valid(self) -> bool:
        return self.invalidated_at is None

    def delete(self, *args, **kwargs):
        raise ClinicalDataProtected("Signatures stay on record; they are invalidated, not deleted.")
