"""Pure decisions: parsing, identity, rules, merge, diff, plans, status. No I/O."""
