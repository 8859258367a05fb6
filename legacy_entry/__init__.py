"""The legacy voucher entry screens: hand-written forms and pages for the eight standard types."""
