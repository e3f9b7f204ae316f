"""The conformance tester: runs the Green Button Alliance's Connect My Data test cases
(STANDARD.md section 6: FND, OAD, RBK, QRY, PSH, OFA, MGA, MGT, TC) against any Data
Custodian and reports, case by case, pass, fail with the evidence, or not applicable
with the reason (``gbconnect conformance``; docs/conformance.md)."""
