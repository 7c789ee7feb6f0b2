"""Errors a user can act on."""


class InputError(ValueError):
    """An input item or its files are invalid; the message names the problem."""
