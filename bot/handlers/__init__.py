"""One package per feature, each with its chat handlers (chat), its rules and named queries (rules), its staff pages
(pages) and its command line (cli) where it has them; routing lists the routers in the order they are consulted."""
