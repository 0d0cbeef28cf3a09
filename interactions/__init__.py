"""The multi-channel interaction log, timelines, tasks and follow-ups."""
