"""Runtime: routing traffic between versions (split/shadow), statistics, analysis and watchdogs."""
