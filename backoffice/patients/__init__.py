"""Patient records: registration, search, the patient page."""
