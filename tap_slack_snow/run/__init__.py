"""One run of the tap: what the token is and may do, the workspaces it reads, which streams
can run, the run's plan, and fetching streams side by side (workers, spools, progress)."""
