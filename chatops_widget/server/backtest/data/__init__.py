"""Market data beyond the sample: :mod:`.uploads` (``uploadData``) and :mod:`.watch`
(the data folder)."""
