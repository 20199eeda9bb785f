"""Guidance's pure domain: the client relationship from route to closure."""
