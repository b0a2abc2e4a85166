"""HTTP Signatures (draft-cavage-12 as Mastodon uses it): our signer and verifier
against each other, and against a signing string built here by hand and checked
with ``cryptography`` directly (the independent oracle)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tribune.federation.signatures import (
    SignatureError,
    SignatureMismatch,
    parse_signature,
    sign_request,
    signature_key_id,
    verify_request,
)

KEY_ID = "https://remote.example/users/zed#main-key"
URL = "https://social.example/users/alice/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.example/users/zed"}'
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, private_pem, public_pem


def signed_post(private_pem: str, body: bytes = BODY, now: datetime = NOW) -> dict[str, str]:
    return sign_request(method="POST", url=URL, body=body, key_id=KEY_ID,
                        private_key_pem=private_pem,
                        headers={"Content-Type": "application/activity+json"}, now=now)


def verify(headers, public_pem, *, body=BODY, method="POST", target="/users/alice/inbox",
           now=NOW):
    return verify_request(method=method, target=target, headers=headers, body=body,
                          public_key_pem=public_pem, now=now)


def test_a_signed_post_verifies_and_names_its_key(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    params = verify(headers, public_pem)
    assert params.key_id == KEY_ID and signature_key_id(headers) == KEY_ID
    assert params.headers == ("(request-target)", "host", "date", "digest", "content-type")
    assert headers["Host"] == "social.example"
    assert headers["Date"] == "Wed, 04 Mar 2026 05:06:07 GMT"
    assert headers["Digest"] == "SHA-256=" + base64.b64encode(
        hashlib.sha256(BODY).digest()).decode()


def test_our_signature_verifies_with_a_signing_string_built_by_hand(pair):
    private, private_pem, _public_pem = pair
    headers = signed_post(private_pem)
    by_hand = ("(request-target): post /users/alice/inbox\n"
               "host: social.example\n"
               "date: Wed, 04 Mar 2026 05:06:07 GMT\n"
               f"digest: {headers['Digest']}\n"
               "content-type: application/activity+json").encode()
    signature = base64.b64decode(headers["Signature"].split('signature="')[1].rstrip('"'))
    private.public_key().verify(signature, by_hand, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        private.public_key().verify(signature, by_hand + b"x", padding.PKCS1v15(),
                                    hashes.SHA256())


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "hs2019"])
def test_a_signature_made_by_hand_verifies(pair, algorithm):
    private, _private_pem, public_pem = pair
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    date = "Wed, 04 Mar 2026 04:00:00 GMT"
    message = (f"(request-target): post /users/alice/inbox\nhost: social.example\n"
               f"date: {date}\ndigest: {digest}").encode()
    signature = base64.b64encode(private.sign(message, padding.PKCS1v15(),
                                              hashes.SHA256())).decode()
    headers = {"host": "social.example", "date": date, "digest": digest,
               "signature": f'keyId="{KEY_ID}",algorithm="{algorithm}",'
                            f'headers="(request-target) host date digest",'
                            f'signature="{signature}"'}
    assert verify(headers, public_pem).key_id == KEY_ID


def test_a_signed_get_needs_no_digest(pair):
    _private, private_pem, public_pem = pair
    headers = sign_request(method="GET", url="https://social.example/users/alice?x=1",
                           key_id=KEY_ID, private_key_pem=private_pem, now=NOW)
    assert "Digest" not in headers
    params = verify(headers, public_pem, body=b"", method="GET", target="/users/alice?x=1")
    assert params.headers == ("(request-target)", "host", "date")


def test_a_date_twelve_hours_away_passes_and_more_is_refused(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    verify(headers, public_pem, now=NOW + timedelta(hours=12))
    verify(headers, public_pem, now=NOW - timedelta(hours=12))
    with pytest.raises(SignatureError, match="12 hours"):
        verify(headers, public_pem, now=NOW + timedelta(hours=12, seconds=1))
    with pytest.raises(SignatureError, match="12 hours"):
        verify(headers, public_pem, now=NOW - timedelta(hours=12, seconds=1))


def test_a_tampered_date_is_refused(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    headers["Date"] = "Wed, 04 Mar 2026 05:06:08 GMT"
    with pytest.raises(SignatureMismatch, match="does not match the key"):
        verify(headers, public_pem)


def test_a_tampered_body_is_refused_by_its_digest(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    with pytest.raises(SignatureError, match="Digest header does not match the body"):
        verify(headers, public_pem, body=BODY.replace(b"Follow", b"Block"))


def test_a_recomputed_digest_over_a_tampered_body_breaks_the_signature(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    tampered = BODY.replace(b"Follow", b"Block")
    headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(tampered).digest()).decode()
    with pytest.raises(SignatureMismatch):
        verify(headers, public_pem, body=tampered)


def test_a_tampered_signed_header_or_target_is_refused(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    with pytest.raises(SignatureMismatch):
        verify({**headers, "Content-Type": "text/plain"}, public_pem)
    with pytest.raises(SignatureMismatch):
        verify({**headers, "Host": "other.example"}, public_pem)
    with pytest.raises(SignatureMismatch):
        verify(headers, public_pem, target="/inbox")


def test_another_key_does_not_verify(pair):
    _private, private_pem, _public_pem = pair
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    other_pem = other.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(SignatureMismatch):
        verify(signed_post(private_pem), other_pem)


def _resigned(private, headers: dict[str, str], names: str) -> dict[str, str]:
    lines = []
    for name in names.split():
        value = "post /users/alice/inbox" if name == "(request-target)" else headers[name.title()]
        lines.append(f"{name}: {value}")
    signature = base64.b64encode(private.sign("\n".join(lines).encode(), padding.PKCS1v15(),
                                              hashes.SHA256())).decode()
    return {**headers, "Signature": f'keyId="{KEY_ID}",headers="{names}",signature="{signature}"'}


@pytest.mark.parametrize(("names", "missing"), [
    ("(request-target) host date", "digest"),
    ("host date digest", "(request-target)"),
    ("(request-target) date digest", "host"),
    ("(request-target) host digest", "date"),
])
def test_a_signature_must_cover_target_host_date_and_the_digest(pair, names, missing):
    private, private_pem, public_pem = pair
    headers = _resigned(private, signed_post(private_pem), names)
    with pytest.raises(SignatureError, match=re.escape(f"must cover '{missing}'")):
        verify(headers, public_pem)


def test_several_digests_are_read_and_sha256_must_match(pair):
    private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    sha256 = headers["Digest"]
    headers["Digest"] = f"SHA-512=AAAA, {sha256}"
    headers = _resigned(private, headers, "(request-target) host date digest")
    assert verify(headers, public_pem).key_id == KEY_ID
    headers["Digest"] = "SHA-512=AAAA"
    headers = _resigned(private, headers, "(request-target) host date digest")
    with pytest.raises(SignatureError, match="no SHA-256"):
        verify(headers, public_pem)


def test_created_in_the_future_and_expired_signatures_are_refused(pair):
    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    base = headers["Signature"]
    future = int((NOW + timedelta(hours=2)).timestamp())
    with pytest.raises(SignatureError, match="created in the future"):
        verify({**headers, "Signature": f"{base},created={future}"}, public_pem)
    past = int((NOW - timedelta(minutes=1)).timestamp())
    with pytest.raises(SignatureError, match="expired"):
        verify({**headers, "Signature": f"{base},expires={past}"}, public_pem)


@pytest.mark.parametrize(("value", "reason"), [
    ('keyId="k",signature="!!!"', "not base64"),
    ('signature="AAAA"', "no keyId"),
    ('keyId="k"', "no signature"),
    ('keyId="k",algorithm="hmac-sha256",signature="AAAA"', "unsupported"),
    ("keyId=k,signature=AAAA", "malformed"),
    ("Signature " + "x" * 9000, "too long"),
])
def test_malformed_signature_headers_say_why(value, reason):
    with pytest.raises(SignatureError, match=reason):
        parse_signature(value)


def test_an_unsigned_request_and_a_missing_date_say_why(pair):
    _private, private_pem, public_pem = pair
    with pytest.raises(SignatureError, match="not signed"):
        verify({"Host": "social.example"}, public_pem)
    headers = signed_post(private_pem)
    del headers["Date"]
    with pytest.raises(SignatureError, match="Date header is missing"):
        verify(headers, public_pem)
    headers["Date"] = "yesterday"
    with pytest.raises(SignatureError, match="not an HTTP date"):
        verify(headers, public_pem)


def test_a_key_that_is_not_pem_is_an_error_not_a_crash(pair):
    _private, private_pem, _public_pem = pair
    with pytest.raises(SignatureError, match="not a PEM public key"):
        verify(signed_post(private_pem), "not a key")


# --- pyhttpsig, a second independent implementation ------------------------------


def test_pyhttpsig_verifies_our_signature(pair):
    from httpsig.verify import HeaderVerifier

    _private, private_pem, public_pem = pair
    headers = signed_post(private_pem)
    verifier = HeaderVerifier(headers, public_pem, method="POST", path="/users/alice/inbox",
                              required_headers=["(request-target)", "host", "date", "digest"],
                              sign_header="signature")
    assert verifier.verify() is True
    tampered = {**headers, "Date": "Wed, 04 Mar 2026 05:06:08 GMT"}
    assert HeaderVerifier(tampered, public_pem, method="POST", path="/users/alice/inbox",
                          sign_header="signature").verify() is False


def test_we_verify_pyhttpsigs_signature(pair):
    from httpsig.sign import HeaderSigner

    _private, private_pem, public_pem = pair
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    headers = {"Host": "social.example", "Date": "Wed, 04 Mar 2026 05:00:00 GMT",
               "Digest": digest}
    signer = HeaderSigner(KEY_ID, private_pem, algorithm="rsa-sha256",
                          headers=["(request-target)", "host", "date", "digest"],
                          sign_header="signature")
    signed = dict(signer.sign(headers, method="POST", path="/users/alice/inbox"))
    assert verify(signed, public_pem).key_id == KEY_ID
    with pytest.raises(SignatureMismatch):
        verify(signed, public_pem, target="/users/bob/inbox")
