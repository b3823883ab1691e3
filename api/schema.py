"""The OpenAPI document: every operation lists the errors it can answer, in the one error shape,
with the headers that go with them (ETag, If-Match, Retry-After, WWW-Authenticate, Link)."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from .errors import ErrorSerializer

API_DESCRIPTION = """
The study's data for sponsors, statisticians and integrated systems (labs, IWRS).

**Authentication.** `Authorization: Bearer <token>` with a personal API token (make one at
`/api/tokens/` when signed in, or `POST /api/v1/tokens/` from a signed-in session). A token acts
with its owner's roles and sites, expires (90 days by default, 365 at most) and can be revoked.
Unknown, expired or revoked tokens answer 401.

**Access.** A site role (coordinator, investigator) sees only its sites' subjects, doses and
adverse events; another site's record answers 404, as if it did not exist. Study roles (medical
monitor, data manager, sponsor) see the whole study. The sponsor role reads only: every write
answers 403.

**Writes** go through the same services as the web pages: the same validation, the same audit
trail. Every write to an existing record needs the record's `ETag` in `If-Match` (428 without
it, 412 if someone changed the record since, with what changed). Corrections (`PATCH`) and voids
(`DELETE`) need a `reason`. Nothing is deleted: `DELETE` voids the record, which stays on record.

**Pulling data.** Lists are cursor-paginated in id order (`page_size` up to 1000; follow `next`,
also in the `Link` header). Filter by study, site, cohort, dose level and dates.
`updated_since=<ISO 8601 time>` returns every record changed at or after that time, voided ones
included (`voided: true`), for incremental pulls: pull again from a little before the start of
your previous pull and keep the highest `version` of each `id`. `?format=csv` gives the same
records as CSV (formula-looking text neutralised).

**Errors** have one shape: `{"error": {"status", "code", "message", "fields"?}}`.

**Rate limits** answer 429 with `Retry-After`.
""".strip()

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: `fields` names each field and what is wrong.",
    "401": "No credentials, or the token is unknown, expired or revoked.",
    "403": "Your role may not do this (the sponsor role never writes).",
    "404": "No such record, or it belongs to a site you do not work at.",
    "406": "The Accept header asks for a format this endpoint does not give.",
    "412": "The If-Match ETag is not the record's current version: `changes` says what changed.",
    "413": "The request body is too large.",
    "415": "Send the body as application/json.",
    "423": "The data are frozen or locked (a frozen form, a locked subject, a locked study "
    "database): nothing was changed (docs/quality.md §5).",
    "428": "This write needs the record's ETag in an If-Match header.",
    "429": "Too many requests: wait `Retry-After` seconds.",
}

ETAG_HEADER = OpenApiParameter(
    "ETag",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The record's current version; send it back in If-Match to change the record.",
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="The ETag of the version you are changing (from a GET or an earlier write).",
)
LINK_HEADER = OpenApiParameter(
    "Link",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200],
    description='The next and previous pages (RFC 8288: <url>; rel="next").',
)
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.QUERY,
    enum=["json", "csv"],
    description="json (default) or csv (one row per record).",
)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "edc_<prefix>_<secret>",
            "description": "A personal API token: Authorization: Bearer edc_...",
        }


class ApiAutoSchema(AutoSchema):
    def _action(self) -> str | None:
        return getattr(self.view, "action", None)

    def _needs_if_match(self) -> bool:
        return self._action() in getattr(self.view, "if_match_actions", ())

    def _has_etag(self) -> bool:
        return self._needs_if_match() or self._action() in getattr(self.view, "etag_actions", ())

    def _offers_csv(self) -> bool:
        return any(getattr(r, "format", None) == "csv" for r in self.view.get_renderers())

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self._needs_if_match():
            parameters.append(IF_MATCH_HEADER)
        if self._has_etag():
            parameters.append(ETAG_HEADER)
        if self._action() == "list":
            parameters.append(LINK_HEADER)
        if self.method == "GET" and self._offers_csv():
            parameters.append(FORMAT_PARAMETER)
        return parameters

    def _error_codes(self) -> list[str]:
        # Any operation may meet a malformed parameter (?format=, a filter, a body): 400.
        codes = ["400", "401", "403", "406", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if self.method == "DELETE":
            codes.append("413")  # the void's reason may come in a JSON body
        unlockable = ("/api/v1/tokens", "/api/v1/exports")  # not clinical data
        if self.method in ("POST", "PATCH", "DELETE") and not self.path.startswith(unlockable):
            codes.append("423")  # frozen or locked data (docs/quality.md §5)
        if self._needs_if_match():
            codes += ["412", "428"]
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if getattr(self.view, "public_schema", False):
            return responses
        for code in self._error_codes():
            if code in responses:
                continue
            response = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                code,
                media_types=["application/json"],
                direction=direction,
            )
            headers = response.setdefault("headers", {})
            if code == "429":
                headers["Retry-After"] = {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
            elif code == "401":
                headers["WWW-Authenticate"] = {
                    "schema": {"type": "string"},
                    "description": 'Bearer realm="api"',
                }
            elif code == "412":
                headers["ETag"] = {
                    "schema": {"type": "string"},
                    "description": "The record's current version.",
                }
            if not headers:
                del response["headers"]
            responses[code] = response
        return responses


# One or more strong ETags as the API makes them ('"42.3"'), comma-separated (RFC 9110 13.1.1).
ENTITY_TAG = r'"[0-9]{1,19}\.[0-9]{1,10}"'
IF_MATCH_PATTERN = rf"^\s*{ENTITY_TAG}(?:\s*,\s*{ENTITY_TAG})*\s*$"
# drf-spectacular writes a decimal's pattern with every part optional, so "" and "-" would be
# schema-valid; the server (like Python's Decimal) needs at least one digit.
LOOSE_DECIMAL = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def _tighten_decimal(pattern: str) -> str:
    match = LOOSE_DECIMAL.match(pattern)
    if match is None:
        return pattern
    whole, fraction = match.groups()
    return rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{fraction}}})?|\.\d{{1,{fraction}}})$"


def _walk(node) -> None:
    if isinstance(node, dict):
        if node.get("format") == "decimal" and isinstance(node.get("pattern"), str):
            node["pattern"] = _tighten_decimal(node["pattern"])
        if node.get("in") == "header" and node.get("name") == "If-Match":
            node["schema"] = {"type": "string", "pattern": IF_MATCH_PATTERN}
        for value in node.values():
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def postprocess(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: the document's own description, and the
    patterns that state exactly what the server accepts (decimals, If-Match)."""
    result["info"]["description"] = API_DESCRIPTION
    _walk(result)
    return result
