"""Bundled compact Terraform provider schemas (data files; see README.md in this directory)."""
