-- corpus: a plain TRUNCATE of a staging table: only the timeout rules apply
TRUNCATE TABLE staging.imports;
