"""Page, API and tenant-choice tokens: only HS256 with our key, issuer and
the audience of the expected kind, unexpired and complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest

from portal.settings import get_settings
from tenants.tokens import (
    ALGORITHM,
    CHOICE_AUDIENCE,
    ISSUER,
    KINDS,
    REQUIRED_CLAIMS,
    InvalidToken,
    TokenKind,
    decode_choice_token,
    decode_token,
    issue_choice_token,
    issue_token,
)

IDS: dict[str, UUID] = {"session_id": uuid4(), "user_id": uuid4(), "tenant_id": uuid4(), "membership_id": uuid4()}


def good_token(lifetime: timedelta | None = None, kind: TokenKind = TokenKind.API) -> str:
    return issue_token(
        session_id=IDS["session_id"],
        user_id=IDS["user_id"],
        tenant_id=IDS["tenant_id"],
        membership_id=IDS["membership_id"],
        kind=kind,
        lifetime=lifetime,
    )


def claims() -> dict[str, Any]:
    return jwt.decode(good_token(), options={"verify_signature": False})


def sign(payload: dict[str, Any], *, key: str | None = None, algorithm: str = ALGORITHM) -> str:
    return jwt.encode(payload, key if key is not None else get_settings().secret_key, algorithm=algorithm)


def test_issued_token_decodes_to_its_claims() -> None:
    decoded = decode_token(good_token(), kind=TokenKind.API)
    assert decoded["jti"] == str(IDS["session_id"])
    assert decoded["sub"] == str(IDS["user_id"])
    assert decoded["tid"] == str(IDS["tenant_id"])
    assert decoded["mid"] == str(IDS["membership_id"])
    assert decoded["typ"] == "api"
    assert decoded["iss"] == ISSUER
    assert decoded["aud"] == KINDS[TokenKind.API].audience
    assert jwt.get_unverified_header(good_token())["alg"] == "HS256"


def test_token_lifetime_is_in_the_exp_claim() -> None:
    decoded = decode_token(good_token(timedelta(minutes=10)), kind=TokenKind.API)
    assert 9 * 60 <= decoded["exp"] - decoded["iat"] <= 10 * 60


@pytest.mark.parametrize(("kind", "hours"), [(TokenKind.PAGE, 12), (TokenKind.API, 1)])
def test_each_kind_has_its_own_audience_and_lifetime(kind: TokenKind, hours: int) -> None:
    decoded = decode_token(good_token(kind=kind), kind=kind)
    assert decoded["aud"] == KINDS[kind].audience
    assert decoded["exp"] - decoded["iat"] == hours * 3600
    assert len({rule.audience for rule in KINDS.values()} | {CHOICE_AUDIENCE}) == len(KINDS) + 1


@pytest.mark.parametrize(("issued", "expected"), [(TokenKind.PAGE, TokenKind.API), (TokenKind.API, TokenKind.PAGE)])
def test_a_token_of_one_kind_is_refused_as_the_other(issued: TokenKind, expected: TokenKind) -> None:
    token = good_token(kind=issued)
    with pytest.raises(InvalidToken):
        decode_token(token, kind=expected)
    # Relabelling the type alone does not help: the audience is signed too.
    payload = jwt.decode(token, options={"verify_signature": False})
    with pytest.raises(InvalidToken):
        decode_token(sign({**payload, "typ": expected.value}), kind=expected)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda c: sign(c, key="another-secret-key-that-is-long-enough-000"), id="other-key"),
        pytest.param(lambda c: jwt.encode(c, None, algorithm="none"), id="alg-none"),
        pytest.param(lambda c: sign(c, algorithm="HS512"), id="hs512-same-key"),
        pytest.param(lambda c: sign({**c, "exp": datetime.now(UTC) - timedelta(seconds=5)}), id="expired"),
        pytest.param(lambda c: sign({**c, "iss": "someone-else"}), id="other-issuer"),
        pytest.param(lambda c: sign({**c, "aud": "someone-else"}), id="other-audience"),
        pytest.param(lambda c: sign({**c, "aud": [c["aud"], "someone-else"]}), id="audience-list"),
        pytest.param(lambda c: sign({**c, "aud": "outsourcing-portal"}), id="old-shared-audience"),
        pytest.param(lambda c: sign({**c, "typ": "choose-tenant"}), id="choice-kind"),
        pytest.param(lambda c: sign({**c, "typ": "refresh"}), id="other-kind"),
        pytest.param(lambda c: sign({**c, "nbf": datetime.now(UTC) + timedelta(hours=1)}), id="not-yet-valid"),
        pytest.param(lambda c: good_token()[:-2] + ("AA" if not good_token().endswith("AA") else "BB"), id="bad-signature"),
        pytest.param(lambda c: "not.a.token", id="garbage"),
        pytest.param(lambda c: "", id="empty"),
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 forgery
def test_forged_or_stale_tokens_are_refused(forge: Any) -> None:
    with pytest.raises(InvalidToken):
        decode_token(forge(claims()), kind=TokenKind.API)


@pytest.mark.parametrize("claim", REQUIRED_CLAIMS)
def test_every_required_claim_must_be_present(claim: str) -> None:
    payload = claims()
    del payload[claim]
    with pytest.raises(InvalidToken):
        decode_token(sign(payload), kind=TokenKind.API)


def test_choice_token_names_the_user() -> None:
    user_id = uuid4()
    claims = decode_choice_token(issue_choice_token(user_id))
    assert claims.user_id == user_id
    # Each proof has its own id, which is what makes it single-use.
    assert claims.token_id != decode_choice_token(issue_choice_token(user_id)).token_id


@pytest.mark.parametrize("kind", list(TokenKind))
def test_session_token_is_not_a_choice_token(kind: TokenKind) -> None:
    with pytest.raises(InvalidToken):
        decode_choice_token(good_token(kind=kind))


@pytest.mark.parametrize("kind", list(TokenKind))
def test_choice_token_is_not_a_session_token(kind: TokenKind) -> None:
    with pytest.raises(InvalidToken):
        decode_token(issue_choice_token(uuid4()), kind=kind)


def test_expired_choice_token_is_refused() -> None:
    with pytest.raises(InvalidToken):
        decode_choice_token(issue_choice_token(uuid4(), lifetime=timedelta(seconds=-1)))


def test_unsigned_choice_token_is_refused() -> None:
    payload = jwt.decode(issue_choice_token(uuid4()), options={"verify_signature": False})
    with pytest.raises(InvalidToken):
        decode_choice_token(jwt.encode(payload, None, algorithm="none"))


def test_the_signing_key_is_long_enough_for_hmac() -> None:
    # PyJWT's advice for HS256: a key of at least 32 bytes.
    assert len(get_settings().secret_key.encode()) >= 32
