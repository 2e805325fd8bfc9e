"""Domain logic with no Flask request in it: the CLI, the web views and the tests all call it."""
