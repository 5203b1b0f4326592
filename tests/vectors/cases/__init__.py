"""The case tables, one module per vector file, each checked against the oracles in
../oracles; writer.py builds, validates and writes them."""
