"""The disclosure policy shared by the three services (docs/adr/0018)."""
