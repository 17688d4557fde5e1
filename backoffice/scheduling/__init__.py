"""Appointments: booking, moving and cancelling them, finding free times, and the calendars."""
