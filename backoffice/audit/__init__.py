"""Append-only audit trail: every write and every opening of a patient record."""
