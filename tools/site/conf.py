"""Sphinx configuration for the course site (tools/site/build.py copies it into the generated source tree)."""

project = "vae-teach"
author = "vae-teach"
copyright = "vae-teach"
language = "en"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", ".doctrees", "**.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# ---- notebooks: executed beforehand; their outputs are static already (static_outputs.py)
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget manager from a CDN: the pages carry no live widgets
nb_mime_priority_overrides = [  # an explorer's self-contained text/html copy wins over its widget view
    ("html", "text/html", 5),
    ("html", "application/vnd.jupyter.widget-view+json", 50),
]
nb_merge_streams = True
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_dmath_double_inline = True
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# ---- maths: MathJax 3 from _static (copied by the builder), SVG output so no web fonts are fetched
mathjax_path = "mathjax/tex-svg.js"
mathjax3_config = None
mathjax_config_path = "mathjax-config.js"  # the whole MathJax configuration; it typesets after the load event
myst_update_mathjax = False  # mathjax-config.js already sets the classes myst would add

# ---- theme: sphinx-book-theme, everything local; arrow keys stay with the explorers
html_theme = "sphinx_book_theme"
html_title = "vae-teach"
html_static_path = ["_static"]
templates_path = ["_templates"]  # static/webpack-macros.html: Font Awesome loads after the load event
html_css_files = ["vae-site.css"]
html_show_sourcelink = False
html_show_search_summary = False  # summaries fetch each hit's page, which file:// pages may not do
html_copy_source = True  # the download button offers the executed .ipynb
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,  # left/right arrows move explorer sliders, not pages
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {},
    "show_prev_next": True,
    "search_bar_text": "Search the course…",
    "navbar_persistent": [],  # one search field (the sidebar's), not a second one in a header bar
    "navbar_start": [],
    "navbar_end": [],
}
html_context = {"default_mode": "light"}  # the theme's mode switch still offers dark and auto
