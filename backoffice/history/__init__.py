"""Procedures done elsewhere or before the practice used the app: recorded by hand or imported at
go-live, and counted by every frequency limit and candidacy rule like one done here."""
