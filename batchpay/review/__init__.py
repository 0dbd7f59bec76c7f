"""Four eyes before money moves: what a person checks before a batch is paid.

- :mod:`batchpay.review.digest`: the plan digest an approval signs;
- :mod:`batchpay.review.changes`: what changed since the last paid batch (payee alarms);
- :mod:`batchpay.review.pack`: the review pack (``batchpay review``).

Kept import-light: importing the package loads none of its modules.
"""
