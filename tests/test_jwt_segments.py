"""The launch's faster base64url check (lti/launch.py _Jws) accepts and refuses exactly what PyJWT's does."""
from __future__ import annotations

import base64

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_tool.lti.launch import _Jws

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
segments = st.one_of(
    st.binary(max_size=64),
    st.lists(st.sampled_from(list(ALPHABET) + list(b"=+/!. \n\x00")), max_size=64).map(bytes),
    st.binary(max_size=48).map(lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")),
    st.binary(max_size=48).map(base64.urlsafe_b64encode),  # padded, as some issuers send
)


def _outcome(decode, segment: bytes):
    try:
        return ("ok", decode(segment, "payload"))
    except jwt.DecodeError as exc:
        return ("refused", str(exc))


@settings(max_examples=3000, deadline=None)
@given(segment=segments)
def test_same_outcome_as_pyjwt(segment):
    assert _outcome(_Jws._decode_base64url_segment, segment) == _outcome(jwt.PyJWS._decode_base64url_segment, segment)


@pytest.mark.parametrize("segment", [b"!!!!", b"eyJh\n", b"eyJhbGciOiJSUzI1NiJ9x", b"YQ", b"YR", b"YQ==", b"YQ=", b"Y===", b""])
def test_known_cases(segment):
    assert _outcome(_Jws._decode_base64url_segment, segment) == _outcome(jwt.PyJWS._decode_base64url_segment, segment)
