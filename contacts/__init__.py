"""Contacts and companies: the records everything else hangs on."""
