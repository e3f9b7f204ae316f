"""What every kind of account shares (customers, the utility's staff, third parties'
people): the second factor at sign-in (:mod:`gbconnect.accounts.totp`)."""
