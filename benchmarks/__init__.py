"""Benchmarks at scale: `make bench` (python -m benchmarks.run), see benchmarks/README.md."""
