"""What can be booked and implanted: procedure types, device models and their rules."""
