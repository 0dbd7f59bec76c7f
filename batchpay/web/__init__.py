"""The web app (issue 16): pages over the same library functions as the command line.

``batchpay serve`` builds it with :func:`batchpay.web.app.create_app`; ``batchpay users add``
uses only :mod:`batchpay.web.accounts` (argon2), so neither loads the web stack at start-up.
"""
