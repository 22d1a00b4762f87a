"""A helper module, not a notebook: markers here would leak the solution into the lessons."""

# BEGIN SOLUTION demo.helper: Return one.
ONE = 1
# END SOLUTION
