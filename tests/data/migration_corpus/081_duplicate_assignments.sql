-- corpus: the same column assigned twice in a backfill
UPDATE orders.orders SET status = 'paid', total = total, status = 'shipped' WHERE id < 1000;
