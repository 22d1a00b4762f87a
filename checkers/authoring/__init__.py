"""Author tools: lessons built from solutions, the docs site's generated pages, screenshots from real runs.

Used by ``day07 lessons`` and ``day07 docs`` and by the kit's authors, never by a learner's notebook. One module
per concern:

- lessons: ``lessons`` (exercises cut from the solutions), ``checks_bundle`` (the check cells' ``day07_checks``);
- page generators: ``cli_page``, ``job_fields_page``, ``checks_page``, ``rubric``, ``lesson_pages``, sharing
  ``markdown_text``; ``site`` lists every generated page, ``site_hooks`` holds the mkdocs hook events and
  ``site_build`` runs mkdocs;
- drawings (the kit's own HTML pictures of local runs): ``frame``, ``notebook_drawing``, ``graph_drawing``,
  ``timeline_drawing``;
- capture: ``shot``, ``chromium`` (headless Chromium), ``lab`` (a real JupyterLab), and ``screenshots``, which runs
  the solutions and writes every docs image.

May import any package below it; never ``checkers.cli``: the CLI passes in what a page needs from it (its parser, for
the CLI reference; see ``checkers/cli/mkdocs_hook.py``). The CLI imports it, and ``checkers.workspace`` (a peer)
reads ``checks_bundle.BUNDLE_DIR``.
"""
