"""The configuration-driven entry screen's rules, request-free: the views call these and render.

Import from the modules: `definitions` (the configuration version a form is built from, and who
may do what), `forms` (the forms of a new, stored or posted entry), `problems` (ledger and data
problems placed at the field or line they concern), `actions` (saving, submitting, approving and
posting), `preview` (running totals and the ledger lines an entry would post) and `search`
(accounts and parties as the user types).
"""
