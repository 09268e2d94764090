"""Exceptions a person can act on: each message says what was wrong and what to do."""


class ForecasterError(Exception):
    """Base class for every error the studio raises on purpose."""


class DataError(ForecasterError, ValueError):
    """The data cannot be used as given (unreadable file, wrong column, too short, ...)."""


class ConfigError(ForecasterError, ValueError):
    """An option is out of range or contradicts another option."""


class TrainingError(ForecasterError, RuntimeError):
    """Training went wrong in a way the user can fix (diverging loss, ...)."""


class NotFittedError(ForecasterError, RuntimeError):
    """A model was asked to predict before it was trained or loaded."""


class ModelFileError(ForecasterError, ValueError):
    """A saved model folder or archive is missing, damaged, tampered with or of another version."""


class StoreError(ForecasterError, RuntimeError):
    """The run store cannot be read or written, or has no such run."""
