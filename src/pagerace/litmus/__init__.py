"""`pagerace litmus`: herd7's C litmus tests checked by the engine under a memory model.

parse.py reads a test (syntax.py is its tree), interp.py turns it into an engine program
(primitives.py: the kernel primitives as ops), outcome.py explores it and evaluates the
condition, herd.py prints herd7-like text and JSON.
"""
