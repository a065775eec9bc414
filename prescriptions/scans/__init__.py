"""Scan returned sheets: a photo or a scanned PDF fills a week's log, for a therapist to confirm."""
