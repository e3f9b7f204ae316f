"""What the tests store, built by small functions: customers with usage data
(:mod:`.customers`, :mod:`.usage`, :mod:`.records`), third parties (:mod:`.parties`),
grants and tokens (:mod:`.tokens`), the in-process application (:mod:`.app`) and the
world of the OAuth and API tests built of them (:mod:`.world`)."""
