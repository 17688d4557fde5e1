"""The practice's setup: offices and their hours, rooms, physicians and their working schedules."""
