"""Password hashing (Argon2id) and the strength rule: 12+ characters, not common.

No composition rules: length and a check against common and guessable
passwords (zxcvbn's lists and estimator, with the person's own details).
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from webapp.domain.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("a-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists (hash a dummy when it does not)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_strength(password: str, user_inputs: list[str] | tuple[str, ...] = ()) -> None:
    """Raise WeakPassword with a reason: too_short, too_long or guessable."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword("too_short")
    if len(password) > MAX_LENGTH:
        raise WeakPassword("too_long")
    inputs = [value for value in user_inputs if value]
    inputs += [part for value in inputs for part in value.replace("@", " ").split()]
    result = zxcvbn(password[:100], user_inputs=inputs)
    if result["score"] < MIN_SCORE:
        raise WeakPassword("guessable")
