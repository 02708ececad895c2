"""The daemon's side of a Ray cluster: settings, connection, placement, and `nmctl cluster`.

A target with ``[sandbox] where = "cluster"`` has its candidates and genomes
evaluated on the cluster's nodes (`sandbox.cluster`); git and the store stay here.
"""
