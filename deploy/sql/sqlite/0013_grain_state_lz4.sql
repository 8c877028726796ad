-- PostgreSQL only (lz4 compression of grain payloads); SQLite stores payloads as they are. Kept so both providers share versions.
SELECT 1;
