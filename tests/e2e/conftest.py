from tests.e2e.stack_fixture import rasa_stack

__all__ = ["rasa_stack"]
