-- edited on Windows: CRLF line ends
SET lock_timeout = '2s';
ALTER TABLE accounts ADD COLUMN email text;
