"""JSON request bodies, refused cleanly when they are not something the API could accept.

Python's JSON decoder recurses once per nesting level and gives up at the interpreter's
recursion limit with RecursionError, which would otherwise be answered 500. No endpoint takes
more than a few levels (an object of answers is the deepest), so a body nested deeper than
MAX_DEPTH is a malformed request: 400 `parse_error`, the same as any other unreadable body.
The body's size limit is Django's DATA_UPLOAD_MAX_MEMORY_SIZE (413, api/errors.py).
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
TOO_DEEP = f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep."


class JsonParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        if _depth_exceeds(data, MAX_DEPTH):
            raise ParseError(TOO_DEEP)
        return data


def _depth_exceeds(value, limit: int) -> bool:
    """Is `value` nested more than `limit` containers deep? Iterative: no recursion to exhaust."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
