"""Insurance: the payers the practice bills (kept by admins) and each patient's primary and
secondary coverage with them, edited from the patient's page."""
