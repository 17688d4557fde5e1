"""The audit log page: managers and admins read the trail, each seeing what their roles allow."""
