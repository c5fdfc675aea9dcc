"""Benchmarks for flask-escalated: a data generator and a latency/throughput runner."""
