"""Publishing an edition: `exports` (the stage: the marts as Parquet, CSV, Dutch CSV, workbook and
DuckDB file, written to a staging folder and renamed into exports/<edition>/), and the formats it
shares with the site: `xlsx` (workbooks whose rows DuckDB writes) and `columns_nl` (Dutch column
heads and labels). Importing this package imports none of its modules."""
