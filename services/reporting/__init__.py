"""Reporting: side-separated projections, statistics, audit log, replay, dashboard."""
