"""Helpers the project's own tests share: the suite-process runner (suiteproc) and the self-verification judge."""
