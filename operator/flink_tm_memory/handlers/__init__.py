"""The kopf registrations: which events of the cluster reach which piece of the controller.

Layer L6. Only registrations live here (``registration``) and the translation of the admission
verdict into kopf's terms (``admission``); what a handler does is the ``control`` layer's work, and
how the process runs (servers, certificates, leader election, logging) is the ``runtime`` layer's.
"""
