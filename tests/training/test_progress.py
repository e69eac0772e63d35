"""Reading Rasa's training output, and its errors in Swedish."""

from __future__ import annotations

from training.progress import Progress, feed, seconds, tail
from training.validation_messages import translate

# As Rasa 3.6 prints them: log lines, and tqdm's bar rewritten with carriage returns.
OUTPUT = (
    "2026-12-04 21:40:01 INFO     rasa.engine.training.hooks  - Restored component 'SpacyNLP' from cache.\n"
    "2026-12-04 21:40:02 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.\n"
    "Epochs:   0%|          | 0/60 [00:00<?, ?it/s]\r"
    "Epochs:   2%|▏         | 1/60 [00:03<03:24,  3.47s/it, t_loss=12.1, i_acc=0.112]\r"
    "Epochs:  45%|████▌     | 27/60 [01:10<01:26,  2.61s/it, t_loss=1.2, i_acc=0.94]"
)


def test_the_component_epoch_and_remaining_time_come_from_rasas_output() -> None:
    progress = Progress()
    assert feed(progress, OUTPUT)
    assert (progress.component, progress.epoch, progress.epochs) == ("DIETClassifier", 27, 60)
    assert progress.component_remaining == 86
    assert progress.restored == 1
    # A new component starts counting again.
    feed(progress, "INFO rasa.engine.training.hooks - Starting to train component 'ResponseSelector'.\n")
    assert (progress.component, progress.epoch, progress.epochs) == ("ResponseSelector", 0, 0)


def test_clock_values_and_the_log_tail() -> None:
    assert (seconds("01:26"), seconds("1:02:03"), seconds("?")) == (86, 3723, None)
    assert tail("", OUTPUT).splitlines()[-1].startswith("Epochs:  45%")  # rewritten lines collapsed
    assert len(tail("x" * 10_000, "y", limit=100)) == 100


def test_rasas_errors_are_told_in_swedish_and_unknown_ones_shown_as_they_are() -> None:
    output = (
        "UserWarning: The example 'hej' was found labeled with multiple different intents in the data.\n"
        "UserWarning: The intent 'ask_parking' is listed in the domain file, but is not found in the NLU "
        "training data.\n"
        "ERROR rasa.something - Unexpected thing happened\n"
        "INFO all is well\n"
    )
    assert translate(output) == [
        "Exemplet ”hej” finns under flera avsikter. Ett exempel får bara höra till en avsikt.",
        "Avsikten ask_parking finns i domänen men har inga exempel.",
        "Rasa: ERROR rasa.something - Unexpected thing happened",
    ]
    assert translate("nothing useful") == ["Rasa avslutade med ett fel utan närmare förklaring (se loggen)."]
