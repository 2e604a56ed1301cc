"""Benchmarks: `make bench`. Each figure is printed beside a baseline measured
in the same run, as a ratio; tests never assert timings."""
