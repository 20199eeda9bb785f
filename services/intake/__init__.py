"""Intake: referral -> info session -> consent -> service-needs assessment -> route."""
