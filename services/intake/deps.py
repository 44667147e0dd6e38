"""intake's typed dependencies: the vault that seals and opens callers' personal data."""

from typing import Annotated

from fastapi import Depends, Request

from intake.privacy import Vault


def get_vault(request: Request) -> Vault:
    return request.app.state.vault


VaultDep = Annotated[Vault, Depends(get_vault)]
