"""The Excel add-in of the Territory Planner: adapters only.

``functions``   TERRITORY_* worksheet functions (cheap and pure; no rebalancing in a cell)
``book``        the one place that touches ``xw.Book``, and a file-backed twin for tests
``ribbon``      one ``dispatch(control_id)`` behind every button of the Territory tab
``build_xlam``  builds ``territory.xlam`` from ``ribbon.xml`` and the VBA text sources

Nothing happens at import time; xlwings is imported by the modules that need it.
"""
