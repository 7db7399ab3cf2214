"""Sharing safely: de-identification (PS3.15 Annex E) and sending to a PACS.

- :mod:`~tbp_core.sharing.profile`: Table E.1-1 and its options (the standard's rules).
- :mod:`~tbp_core.sharing.identifiers`: the old → new identifiers of one batch.
- :mod:`~tbp_core.sharing.deidentify`: apply the profile to one object.
- :mod:`~tbp_core.sharing.send`: C-ECHO/C-STORE (pynetdicom) and DICOMweb STOW-RS.
- :mod:`~tbp_core.sharing.commands`: the ``deidentify`` and ``send`` commands.
"""
