"""Helpers for testing the toolkit and what is built on it, as transformers.testing_utils is for
transformers: tiny random-weight models of every supported architecture with tokenizers of their
real kinds (architectures.py), and the texts and span comparison that check the runtime answers as
transformers' pipeline does (pipeline_parity.py). Used by tests/ and bench/; nothing else imports it."""
