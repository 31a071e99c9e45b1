"""Audit signatures: every entry signed by the account that wrote it.

The hash chain shows an entry changed or removed, but anyone holding the database key (any
account, read-only ones included, working outside the console) can append a correctly chained
entry in anyone's name. So each account also holds an Ed25519 signing key, derived from the
private key its key slot opens with its passphrase (store/keyslots.py), and signs every entry it
writes. Its public half is on the record: in the grant that created the account, signed by a
DSL (or, for an account from before signatures, in the entry its first unlock writes). An entry
in a person's name that their key did not sign is then a forgery `audit verify` names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PUBLIC_HEX_CHARS = 64
SIGNATURE_HEX_CHARS = 128


@dataclass(frozen=True)
class Signer:
    """An unlocked account's signing key: what its audit entries are signed with."""

    name: str
    key: Ed25519PrivateKey = field(repr=False)

    @property
    def public(self) -> str:
        """The public half, as the trail records it (hex)."""
        return public_hex(self.key)

    def sign(self, digest: str) -> str:
        """The signature over an entry's hash, naming its signer (hex)."""
        return self.key.sign(_message(self.name, digest)).hex()


def signing_key(private_raw: bytes, user: str) -> Ed25519PrivateKey:
    """The account's signing key, derived from the private key its slot holds: no new secret
    to keep, and it survives a re-encryption (which reseals, never replaces, the key pair)."""
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"dsl-console audit signing key|" + user.encode("utf-8"),
    ).derive(private_raw)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def _message(signer: str, digest: str) -> bytes:
    return b"dsl-console audit entry|" + signer.encode("utf-8") + b"|" + digest.encode("ascii")


class Verifier:
    """Checks signatures against public keys given as hex, each key parsed once."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PublicKey | None] = {}

    def signed(self, public: str, signer: str, digest: str, signature: str) -> bool:
        """Whether `signature` is `signer`'s, made with `public`'s private half, over `digest`."""
        if public not in self._keys:
            try:
                self._keys[public] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
            except ValueError:
                self._keys[public] = None
        key = self._keys[public]
        if key is None or len(signature) != SIGNATURE_HEX_CHARS:
            return False
        try:
            key.verify(bytes.fromhex(signature), _message(signer, digest))
        except (InvalidSignature, ValueError):
            return False
        return True
