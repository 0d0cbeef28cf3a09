"""A record kind that only the tests declare (crm/settings_test.py): it proves that a new
kind needs no edit in crm or contacts, by passing the whole contract suite."""
