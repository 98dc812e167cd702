"""The pylti1p3 adapter: registrations, launch state, launch validation. No routes here."""
