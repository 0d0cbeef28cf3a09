"""Importing contacts and companies from CSV and XLSX files."""
