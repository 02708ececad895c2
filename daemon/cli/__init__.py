"""`nmctl`: one module per command group, shared options in `options`, drawing in `progress`.

Commands call the engine (`daemon.cycles`, `daemon.ledger`, `daemon.store`,
`daemon.registry`), never git directly; `main` turns their errors into one line.
"""
