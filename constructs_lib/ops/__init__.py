"""Commands around the stacks: state bootstrap, doctor, CI workflows, inventory, report, cost, DVC remotes.

Nothing here is imported by the constructs. ``bootstrap`` and ``doctor`` need the optional cloud SDKs
(``pip install 'cdktf-mlops[ops]'``); the others read synthesized stacks only.
"""
