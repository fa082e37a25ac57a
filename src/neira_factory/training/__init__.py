"""The Training Orchestrator's pure parts: datasets, objectives, the search and the
convergence rules, and the plot. No I/O here: services/training.py reads files and the database,
runs the node and drives the search."""
