-- corpus: file-wide suppression of two rules (squawk's alias for both timeout rules too)
-- squawk-ignore-file ban-drop-table, require-timeout-settings
DROP TABLE IF EXISTS staging.imports_2019;
DROP TABLE IF EXISTS staging.imports_2020;
