"""The mutation operators: one module per family, one class per operator.

`policies.codemods.catalogue` imports every module of this package and keeps the concrete
`Operator` subclasses, so adding an operator means adding a class here and nothing else.
"""
