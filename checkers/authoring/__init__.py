"""Author tools: lessons built from solutions, the docs site's generated pages, screenshots from real runs.

Used by ``day07 lessons`` and ``day07 docs`` and by the kit's authors, never by a learner's notebook. May import
any other package of the kit; nothing imports it except the CLI.
"""
