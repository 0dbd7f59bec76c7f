"""Four eyes: signed approvals bound to the exact plan, and a tamper-evident audit log.

- :mod:`batchpay.approvals.keys`: Ed25519 keys in OpenSSH format (load, keygen, fingerprints);
- :mod:`batchpay.approvals.roster`: the approvers file (people, roles, keys, policy);
- :mod:`batchpay.approvals.policy`: which approvals count, and the gate ``run`` and ``retry`` pass;
- :mod:`batchpay.approvals.audit`: appending to the audit log, and ``audit verify``.

Storage is :mod:`batchpay.ledger.fouryes`; the plan digest is :mod:`batchpay.review.digest`.
Kept import-light: importing the package loads none of its modules.
"""
