"""The configuration-driven entry screen's views: one page for every voucher type, and its partials.

Import from the modules: `page` (the menu, a new voucher, a saved one), `partials` (the HTMX
endpoints), `presentation` and `controls` (what the template shows, made from the forms) and
`request` (the role every view needs and the version a form posted). The rules are in
`voucher_config.entry`.
"""
