"""remediate."""
