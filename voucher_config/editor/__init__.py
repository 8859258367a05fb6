"""The structured editor of voucher type configurations: its form, diffs, preview and UI schema."""
