"""What can be booked and implanted: procedure types and their rules."""
