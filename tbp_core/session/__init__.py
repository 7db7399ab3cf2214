"""The working session: documents, their edits and exports, and the metadata form."""
