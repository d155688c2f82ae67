"""Folded names: how a person's names are stored for search, in one place.

`customer.first_name_folded` and `customer.last_name_folded` hold `normalise_name` of the
names (lower case, no accents, ligatures spelled out, no punctuation but hyphens and
apostrophes), each with a plain B-tree index: a search by name is then a prefix range
scan on one of those indexes (see domain/people.py). Every piece of code that writes a
person's names calls `folded_names` (Core rows) or `refresh_folded_names` (ORM objects)
in the same statement or flush, so the folded columns never lag behind the names.
"""

import re
import unicodedata

FOLDED_LENGTH = 120  # a name has at most 80 characters; ligatures spelled out may make it longer

_NAME_CHARS = re.compile(r"[^\w' -]|_")


def normalise_name(text: str | None) -> str:
    """Lower case without accents, ligatures or punctuation: `Éloïse  Lœuvre` -> `eloise loeuvre`."""
    folded = (text or "").casefold().replace("œ", "oe").replace("æ", "ae").replace("’", "'")
    stripped = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return " ".join(_NAME_CHARS.sub("", stripped).split())


def _folded(name: str | None) -> str | None:
    return normalise_name(name)[:FOLDED_LENGTH] or None


def folded_names(first_name: str | None, last_name: str | None) -> tuple[str | None, str | None]:
    """(first_name_folded, last_name_folded) for these names; None for an empty one."""
    return _folded(first_name), _folded(last_name)


def refresh_folded_names(customer) -> None:
    """Set a Customer's folded columns from its current names (call it after changing a name)."""
    customer.first_name_folded, customer.last_name_folded = folded_names(customer.first_name, customer.last_name)
