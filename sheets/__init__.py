"""Reading returned log sheets: image in, sheets out. Free of Flask and the database."""

from sheets.reader import DayRead, SheetError, SheetRead, load_pages, read_file, read_page

__all__ = ["DayRead", "SheetError", "SheetRead", "load_pages", "read_file", "read_page"]
