// MathJax 3 from the site's own _static/mathjax/ (no network), drawing SVG so no web fonts are fetched.
// The maths is typeset once the page's load event has fired: text and figures show at once and the formulas
// follow (a page of about 180 formulas takes a few hundred ms), instead of the whole page waiting for them.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    packages: {"[+]": ["ams", "boldsymbol"]},
  },
  options: {
    processHtmlClass: "tex2jax_process|mathjax_process|math|output_area",
    ignoreHtmlClass: "tex2jax_ignore|mathjax_ignore|document",
    menuOptions: {settings: {assistiveMml: false}},
  },
  svg: {fontCache: "global"},
  startup: {
    pageReady() {
      const loaded = document.readyState === "complete" ? Promise.resolve()
        : new Promise((ok) => window.addEventListener("load", ok, {once: true}));
      return loaded.then(() => MathJax.startup.defaultPageReady());
    },
  },
};
