"""Administrator accounts: users, tokens, logins, TOTP, and the policy that decides who may do what."""
