"""Worker processes that run models and scripts for the ``ai`` module.

The module starts ``python -m smartsim_ai.worker --fd N --device DEV ...`` per device and talks
to each worker over an inherited socket (:mod:`smartsim_ai.worker.protocol`).
:class:`smartsim_ai.worker.client.WorkerClient` starts one from Python (tests, debugging).
"""
