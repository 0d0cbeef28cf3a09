"""Pipelines, stages, deals and the pipeline dashboard."""
