"""The audit trail: every state change, who, when, from where, before and
after; append-only and hash-chained per tenant so tampering is detectable."""
