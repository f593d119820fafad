"""The files the questionnaire part hands to the register part (paths relative to the repository root).

Declared here (the hand-over's path with its columns in :mod:`mentorwijs.files`), outside both parts' packages, so that
the register part (inside CBS) can name them without loading the questionnaire code: the questionnaire steps
(:data:`mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS`) write them and the register steps
(:data:`mentorwijs.register.steps.REGISTER_STEPS`) read them.
"""

from __future__ import annotations

from mentorwijs.files import FILES

#: The trainee hand-over (rule ``trainees``; read by the register part).
TRAINEES = FILES["trainees"].path
#: The folder of the flow fragments; every part's fragments are gathered from it into the flow table.
FLOW_FOLDER = "data/interim/flow"
#: The questionnaire part's flow fragments (rules ``supervisors_long`` and ``trainees``).
SUPERVISORS_LONG_FLOW = f"{FLOW_FOLDER}/supervisors_long.csv"
TRAINEES_FLOW = f"{FLOW_FOLDER}/trainees.csv"
