"""Source adapters: one module per database; `registry.SOURCES` names them."""
