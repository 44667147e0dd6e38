"""Identity: the user directory, sign-in (password and TOTP), and the tokens people carry."""
