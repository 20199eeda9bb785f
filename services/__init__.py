"""The three Reitti services: intake, guidance and reporting."""
