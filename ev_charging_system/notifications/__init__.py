"""Notifications to the outside world (webhooks)."""
