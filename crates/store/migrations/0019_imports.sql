-- Order history imported from marketplace exports and CSV files (issue 19): each imported order
-- is known by its source and the file's order number, so a file imported twice creates nothing
-- twice.
CREATE TABLE imported_orders (
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    order_id    {int} NOT NULL REFERENCES orders (id),
    imported_at {int} NOT NULL,
    PRIMARY KEY (source, external_id)
){without_rowid};
