"""Every value the engine understands has words a person can read on the forms."""

from matching.vocabulary import LIVED_EXPERIENCES
from tandem.profiles.pages import CHOICES


def test_every_lived_experience_has_a_label() -> None:
    assert set(CHOICES["lived_experience"]) == set(LIVED_EXPERIENCES)
