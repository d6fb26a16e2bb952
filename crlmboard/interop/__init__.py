"""Exchange formats other than the case file (mCODE FHIR bundles, CSV referrals)."""
