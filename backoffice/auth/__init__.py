"""Staff accounts, roles, sign-in, lockout, idle logoff and the access declarations."""
