"""Pages of a long table: a page's worth of rows is read and drawn, whatever the size of the
study (docs/operations.md §6). The CSV download of a table stays whole."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Pager:
    """Where a table's page stands: `number` of `pages`, over `total` rows. `param` is the
    query parameter that moves it; `query` the page's other parameters (the filters and the
    other tables' pages), filled in once every pager of the page is known."""

    number: int
    pages: int | None  # None: not known yet (pages after this one are worked out when asked)
    total: int
    per_page: int
    more: bool = False  # with pages unknown: is there a page after this one?
    param: str = "page"
    anchor: str = ""
    query: str = ""
    span: tuple[int, int] | None = None  # (first, last) row when pages differ in size

    @classmethod
    def of(cls, total: int, requested: int, per_page: int, **kwargs) -> Pager:
        pages = max(1, -(-total // per_page))
        return cls(number=min(max(1, requested), pages), pages=pages, total=total,
                   per_page=per_page, **kwargs)  # fmt: skip

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def first(self) -> int:
        """The 1-based position of the page's first row (0 when there is none)."""
        return self.span[0] if self.span else min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return self.span[1] if self.span else min(self.offset + self.per_page, self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more if self.pages is None else self.number < self.pages

    @property
    def several(self) -> bool:
        """More than one page: the pager is shown."""
        return self.has_previous or self.has_next

    def rows(self, queryset) -> list:
        """This page's rows of `queryset`: one query, even for an empty table (a page runs the
        same queries whatever the data)."""
        return list(queryset[self.offset : self.offset + self.per_page])


def page_number(params, name: str = "page") -> int:
    """The page asked for in `params[name]` (1 when missing or not a whole number)."""
    raw = params.get(name) or "1"
    return int(raw) if raw.isascii() and raw.isdigit() else 1


def link_pagers(pagers: list[Pager], scope) -> None:
    """Each pager's links keep the filters and the other tables' pages."""
    for pager in pagers:
        others = {p.param: p.number for p in pagers if p is not pager and p.number > 1}
        pager.query = scope.query(**others)
