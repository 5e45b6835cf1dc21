"""Where events come from: scenario files (and later the simulated market)."""
