"""How big a department's file may be, and why.

Every limit is checked *before* the expensive step it protects, and a file over a limit gets one
Chinese sentence that says which limit and what to do, never a stall or a traceback:

- the XLSX archive's declared sizes before anything is decompressed (a 410 KB file whose shared
  strings expand to 400 MB once stalled the bot for 50 s at 1 GB);
- the sheet's declared dimension before its rows are read (1,048,575 empty rows, 1,000,000 columns);
- rows, columns and the grid's size from a scan of the sheet before the library loads it, since a
  declared dimension can lie (the grid also picks the reader: whole-sheet or streamed); cell length
  while validating.
"""

from __future__ import annotations

# Rows of one file (header included). A year of a large bureau's penalties is well below this; the
# importer benchmark loads 300,000 rows. Excel's own maximum is 1,048,576.
MAX_ROWS = 500_000
# Columns: the national templates have at most ~40; exports add a few of their own.
MAX_COLUMNS = 256
# Characters in one cell: Excel's own limit, so no real spreadsheet cell is refused.
MAX_CELL_CHARS = 32_767
# XLSX archive: total uncompressed size, largest plausible compression ratio of one part (XML of real
# sheets compresses 5-30x; a zip bomb 1,000x), and how many parts an archive may have.
MAX_UNCOMPRESSED_BYTES = 1024 * 1024 * 1024
MAX_RATIO = 200
RATIO_CHECKED_ABOVE = 1024 * 1024
MAX_PARTS = 10_000
# python-calamine holds a sheet as a dense grid, rows × last used column, at about 70 bytes a cell with
# its text (measured: 2 KB a row of the 28-column national template, a 300,000-row sheet read at 643 MB
# peak RSS). So it reads an .xlsx sheet only up to STREAM_ABOVE_CELLS cells (~150 MB, about 71,000 rows
# of that template, the files it reads 20 times faster than the stream); larger ones are read row by
# row (db/importers/xlsx_stream.py), in memory that does not grow with the rows. A grid above MAX_CELLS
# (300,000 rows × 50 columns; the benchmark's 300,000 × 28 is 8.4 million) is refused: it bounds the
# work of one file. Both libraries keep every shared string in memory: refused above their size.
STREAM_ABOVE_CELLS = 2_000_000
MAX_CELLS = 15_000_000
MAX_SHARED_STRINGS_BYTES = 256 * 1024 * 1024

__all__ = [
    "MAX_CELLS", "MAX_CELL_CHARS", "MAX_COLUMNS", "MAX_PARTS", "MAX_RATIO", "MAX_ROWS", "MAX_SHARED_STRINGS_BYTES",
    "MAX_UNCOMPRESSED_BYTES", "RATIO_CHECKED_ABOVE", "STREAM_ABOVE_CELLS",
]
