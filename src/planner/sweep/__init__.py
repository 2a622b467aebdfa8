"""Sweeps: variations × replications expanded to work items (``grid``), run on local processes
or a Dask cluster (``executors``)."""
