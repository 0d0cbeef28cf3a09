"""Importing records from CSV and XLSX files: upload, map, check, commit, undo."""
