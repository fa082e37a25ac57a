"""Pure models and rules, no I/O: templates, lifecycle, capabilities, errors, events."""
