"""Where runs execute: :mod:`.manager` (jobs, progress, cancel), :mod:`.pool` (worker
processes), :mod:`.dask_pool` (a Dask cluster) and :mod:`.tasks` (what a worker runs)."""
