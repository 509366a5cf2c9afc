"""Numerical parity: every implementation of an op against an independent reference."""
