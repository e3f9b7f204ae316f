"""What every kind of account shares (customers, the utility's staff, third parties'
people): password hashes (:mod:`gbconnect.accounts.passwords`) and the second factor at
sign-in (:mod:`gbconnect.accounts.totp`)."""
