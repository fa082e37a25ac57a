"""Nervous System: Prometheus metrics and the event stream."""
