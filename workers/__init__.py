"""RQ jobs. Each takes ids, looks its state up, and is safe to run twice."""
