"""Guidance: named guide, caseload, plan and measures, transfers out and back, closure."""
