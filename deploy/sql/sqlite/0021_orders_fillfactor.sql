-- PostgreSQL only (room on the orders table's pages for in-place status changes); SQLite has no fill factor. Kept so both providers share versions.
SELECT 1;
