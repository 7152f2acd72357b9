"""Self-declaration (自主申报) use cases, one module per part of the feature.

- `drafts`: the draft row, one transaction per step, start / resume / cancel / expire;
- `link`: proving the link to a subject for an account without one;
- `steps`: subject, category, fields, going back, attachments, confirmation, commitment;
- `submit`: authorisation, receipt number, routing, the commitment record;
- `items`: submitted declarations as lists (the declarant's own);
- `verification`: the department's queue and decision (approve, reject, revoke).
"""
