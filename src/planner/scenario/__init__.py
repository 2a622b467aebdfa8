"""The scenario: every parameter of one service design, its defaults and sources, its
distributions, and reading it from a TOML file (``loading``)."""
