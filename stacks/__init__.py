"""The repository's cdktf app: one stack per spec file (``cdktf.json`` runs ``python -m stacks``).

``CDKTF_MLOPS_SPECS`` (a path-separated list of files or folders) chooses the specs; the default is
``examples/reference``. The cdktf CLI passes its output folder in ``CDKTF_OUTDIR``.
"""
