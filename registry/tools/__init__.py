"""Development tools that measure the registry: ``bench`` (the candidate search against
baselines) and ``evaluation`` (``registry evaluate``: precision and recall on a labelled set).

Not part of the runtime package: the wheel leaves this folder out (pyproject.toml), and the
CLI imports it only when ``registry evaluate`` runs, from a checkout.
"""
