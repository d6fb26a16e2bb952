"""Exchange formats other than the case file: mCODE FHIR bundles and the referral CSV.

`codes` holds every code mapping as data; `mcode` writes a case as an mCODE STU4 bundle and
`mcode_import` reads one back (the tests check bundles against the published mCODE package,
tests/fhirconformance); `referrals` parses the referral CSV template.  Imports `domain` only
(never `store`, `services` or `ui`): input and output are domain objects and plain data.
"""
