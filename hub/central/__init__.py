"""The regency link: offices send their event log and live state to a centre (issue 18)."""
