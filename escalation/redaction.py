"""What a site role reads of the escalation's evidence: the decision and its counts, not other
sites' subjects.

A recommendation is made from every subject on the track, whatever their site: its text names
subjects, their adverse events (term, grade, onset) and dates, and it keeps the per-subject facts
it saw (`inputs`) and the whole decision as data (`data`). Study roles (medical monitor, data
manager, sponsor, administrator) read all of it. A coordinator or investigator sees only their
own sites' subjects anywhere else (accounts/scoping.py), so here too: another site's subject
becomes "a subject at another site", their adverse events "an adverse event", and their entries
in `inputs` and `data` keep only what the counts already say (dose level, DLT status). Counts
("1 DLT in 3 evaluable"), the action, the dose and the rule stay as they are.

The stored recommendation is never changed: redaction is applied when it is read, here, for the
API's serializers and the portal's pages alike.
"""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from accounts.scoping import member_study_ids, spans_study, visible_site_ids
from subjects.models import Subject

from .rules import AdverseEvent

OTHER_SITE = "a subject at another site"
OTHER_EVENT = "an adverse event"

# Where a mention of a subject ends: the clause separators of the rules' texts, an " at <dose>"
# that follows the subject, or the end of an enclosing parenthesis.
_CLAUSE_ENDS = ("; ", ", ", " at ")


class EscalationRedaction:
    """One user's view of the escalation records; keep one per request (it caches per study)."""

    def __init__(self, user):
        self.user = user
        self._hidden: dict[int, frozenset[str]] = {}
        self._events: dict[int, frozenset[str]] = {}

    # --- who is hidden ---

    def applies(self, study_id: int) -> bool:
        """Does this user read the study through site roles only?"""
        return not spans_study(self.user, study_id)

    def hidden_numbers(self, study_id: int) -> frozenset[str]:
        """Subject numbers of the study the user may not read (other sites' subjects)."""
        if not self.applies(study_id):
            return frozenset()
        if study_id not in self._hidden:
            numbers = (
                Subject.all_objects.filter(study_id=study_id, subject_number__isnull=False)
                .exclude(site_id__in=visible_site_ids(self.user, study_id))
                .values_list("subject_number", flat=True)
            )
            self._hidden[study_id] = frozenset(numbers)
        return self._hidden[study_id]

    def needed_for(self) -> bool:
        """Will any study of this user be read through site roles only (so recommendations'
        inputs must be loaded to redact their texts)?"""
        return any(self.applies(study_id) for study_id in member_study_ids(self.user))

    # --- a recommendation's parts ---

    def _hidden_for(self, recommendation, study_id):
        """(hidden numbers, adverse-event descriptions only hidden subjects have), or None."""
        if study_id is None:
            study_id = recommendation.track.study_id
        hidden = self.hidden_numbers(study_id)
        if not hidden:
            return None
        key = recommendation.pk
        if key not in self._events:
            described = _event_descriptions(recommendation.inputs or {})
            theirs = {d for n, ds in described.items() if n in hidden for d in ds}
            ours = {d for n, ds in described.items() if n not in hidden for d in ds}
            self._events[key] = frozenset(theirs - ours)
        return hidden, self._events[key]

    def text(self, recommendation, study_id: int | None = None) -> str:
        hidden = self._hidden_for(recommendation, study_id)
        if hidden is None:
            return recommendation.text
        return redact_text(recommendation.text, *hidden)

    def data(self, recommendation, study_id: int | None = None):
        hidden = self._hidden_for(recommendation, study_id)
        if hidden is None:
            return recommendation.data
        return _redact_data(recommendation.data, *hidden)

    def inputs(self, recommendation, study_id: int | None = None):
        hidden = self._hidden_for(recommendation, study_id)
        if hidden is None:
            return recommendation.inputs
        return _redact_inputs(recommendation.inputs, hidden[0])

    def recommendation(self, recommendation, study_id: int | None = None):
        """For pages: the recommendation itself when nothing is hidden, else a read-only stand-in
        with the redacted text, data and inputs (the model instance is never altered)."""
        if recommendation is None or self._hidden_for(recommendation, study_id) is None:
            return recommendation
        return RedactedRecommendation(
            recommendation,
            RecommendationView(
                text=self.text(recommendation, study_id),
                data=self.data(recommendation, study_id),
                inputs=self.inputs(recommendation, study_id),
            ),
        )

    def free_text(self, text: str, study_id: int) -> str:
        """A person's text (a committee rationale): other sites' subject numbers replaced, the
        words around them kept (what follows is the writer's, not a rule's clause)."""
        hidden = self.hidden_numbers(study_id)
        if not hidden or not text:
            return text
        for number in sorted(hidden, key=len, reverse=True):
            if number in text:
                text = _number_pattern(number).sub(OTHER_SITE, text)
        return text


@dataclass(frozen=True)
class RecommendationView:
    text: str
    data: Any
    inputs: Any


class RedactedRecommendation:
    """A recommendation as a site role reads it: every attribute of the original, but `text`,
    `data` and `inputs` redacted. Read-only: it cannot be saved."""

    def __init__(self, original, view: RecommendationView):
        self._original = original
        self.text, self.data, self.inputs = view.text, view.data, view.inputs

    @property
    def unredacted(self):
        """The stored recommendation, for decisions the code makes (never for display)."""
        return self._original

    def __getattr__(self, name):
        if name in ("save", "delete", "refresh_from_db"):
            raise AttributeError(f"a redacted recommendation has no {name}()")
        return getattr(self._original, name)

    def __str__(self):
        return f"{self._original.track.code} #{self._original.sequence}: {self.text}"


# --- the redaction itself (plain functions over the stored shapes) ---


def redact_text(text: str, hidden: frozenset[str], hidden_events: frozenset[str]) -> str:
    """`text` with the hidden subjects' adverse events and mentions taken out."""
    if not text:
        return text
    for description in sorted(hidden_events, key=len, reverse=True):
        text = text.replace(description, OTHER_EVENT)
    for number in sorted(hidden, key=len, reverse=True):
        if number in text:
            text = _redact_number(text, number)
    return text


def _number_pattern(number: str) -> re.Pattern:
    """The number as a whole word (not inside a longer number), with "subject(s) " before it."""
    return re.compile(rf"(?:\b[Ss]ubjects? )?(?<![\w-]){re.escape(number)}(?![\w-])")


def _redact_number(text: str, number: str) -> str:
    for match in reversed(list(_number_pattern(number).finditer(text))):
        end = _clause_end(text, match.end())
        text = text[: match.start()] + OTHER_SITE + text[end:]
    return text


def _clause_end(text: str, start: int) -> int:
    """The end of the mention that starts at `start`: what follows a subject number about that
    subject (its window, its status, its event), up to the clause's end."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return index
            depth -= 1
        elif depth == 0 and text.startswith(_CLAUSE_ENDS, index):
            return index
        index += 1
    return index


def _event_descriptions(inputs: dict) -> dict[str, set[str]]:
    """Each subject's adverse events as the rules describe them in texts."""
    described: dict[str, set[str]] = {}
    for subject in inputs.get("subjects", []) or []:
        number = subject.get("number")
        for event in subject.get("adverse_events", []) or []:
            try:
                description = AdverseEvent(
                    onset=date.fromisoformat(event["onset"]),
                    grade=event["grade"],
                    related=bool(event.get("related")),
                    dlt_investigator=bool(event.get("dlt_investigator")),
                    dlt_adjudicated=event.get("dlt_adjudicated"),
                    term=event.get("term"),
                    reference=str(event.get("id", "")),
                ).describe()
            except (KeyError, TypeError, ValueError):
                continue
            described.setdefault(number, set()).add(description)
    return described


# What an entry about another site's subject keeps: what the counts already say.
_KEPT = ("status", "dose_level", "kind", "replaced")
_IDENTITY = ("number", "subject")


def _reduced(entry: dict) -> dict:
    """An entry about another site's subject (a subject's facts, its evaluation, a trigger
    event): who becomes "a subject at another site", the rest is emptied but for _KEPT."""
    reduced = {
        key: OTHER_SITE if key in _IDENTITY else (value if key in _KEPT else None)
        for key, value in entry.items()
    }
    reduced["other_site"] = True
    return reduced


def _redact_json(node, hidden, hidden_events):
    """Every part of a stored JSON document, whatever its layout: entries about a hidden subject
    reduced, lists naming one get the placeholder, texts redacted."""
    if isinstance(node, dict):
        if any(node.get(key) in hidden for key in _IDENTITY if isinstance(node.get(key), str)):
            return _reduced(node)
        return {key: _redact_json(value, hidden, hidden_events) for key, value in node.items()}
    if isinstance(node, list):
        return [_redact_json(value, hidden, hidden_events) for value in node]
    if isinstance(node, str):
        return OTHER_SITE if node in hidden else redact_text(node, hidden, hidden_events)
    return node


def _redact_inputs(inputs, hidden) -> Any:
    return _redact_json(inputs, hidden, frozenset())


def _redact_data(data, hidden, hidden_events) -> Any:
    return _redact_json(data, hidden, hidden_events)
