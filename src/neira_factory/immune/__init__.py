"""Immune System: hash-chained audit trail, artifact integrity, quarantine, safe-mode."""
