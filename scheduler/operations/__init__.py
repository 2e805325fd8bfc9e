"""Domain operations: the one door for writes. Each checks, changes and writes the history in
the caller's transaction; the caller (a view, a command, the API) commits or rolls back.

``actor`` is the account that acts, or None for the command line.
"""
