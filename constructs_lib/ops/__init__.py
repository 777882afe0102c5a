"""Operations around the stacks that need cloud SDKs: state bootstrap, doctor, CI workflows.

Nothing here is imported by the constructs; the SDKs are optional (``pip install 'cdktf-mlops[ops]'``).
"""
