"""Keys derived from the personal-data key ring, one set per purpose (callers' data, second
factors' secrets): the ring's first key seals, every key on it opens."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet


def sealer(ring: Sequence[str], purpose: str) -> MultiFernet:
    """Fernet keys for ``purpose``, one derived from each key of ``ring`` (current first)."""
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"{purpose}|{key}".encode()).digest()))
            for key in ring
        ]
    )
