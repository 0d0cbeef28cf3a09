"""Queues, tickets, SLA policies and the support dashboard."""
