"""Immune System: the keyed, hash-chained audit trail and its checkpoint, artifact integrity, quarantine, safe-mode."""
