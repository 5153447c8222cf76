"""The data layer: the only code that opens sessions or writes SQL."""
