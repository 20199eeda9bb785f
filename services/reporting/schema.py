"""Reporting's schema (raportoinnin skeema): the migrations that build its tables and the
consumer tracking beside them, so a replay target schema is complete on its own."""

from __future__ import annotations

from runtime.db import Migration, consumer_tracking_migrations

#: The projection's tables and the consumer tracking beside them, so a replay target
#: schema is complete on its own.
MIGRATIONS = [
    *consumer_tracking_migrations(),
    Migration.from_package("services.reporting.migrations", "0001_referral_statistics.sql"),
    Migration.from_package("services.reporting.migrations", "0002_side_partitions.sql"),
    Migration.from_package("services.reporting.migrations", "0003_audit_log.sql"),
    Migration.from_package("services.reporting.migrations", "0004_access_report.sql"),
    Migration.from_package("services.reporting.migrations", "0005_opening_transfer.sql"),
    Migration.from_package("services.reporting.migrations", "0006_transfer_key_per_client.sql"),
    Migration.from_package("services.reporting.migrations", "0007_access_report_per_recipient.sql"),
    Migration.from_package("services.reporting.migrations", "0008_access_report_purpose_detail.sql"),
    Migration.from_package("services.reporting.migrations", "0009_municipal_client_name.sql"),
    Migration.from_package("services.reporting.migrations", "0010_intake_targets.sql"),
]
