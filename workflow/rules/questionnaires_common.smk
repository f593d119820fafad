"""Helpers of the questionnaire rules: the part's declared steps and the lists derived from them.

The steps (inputs, outputs, settings) are declared once, in
mentorwijs.ingest.steps.QUESTIONNAIRE_STEPS; the rules take input:, output: and params: from it.
No function hands the whole config to a rule.
"""

from mentorwijs.ingest import steps as _qn_steps

QUESTIONNAIRE_STEPS = _qn_steps.STEPS
QUESTIONNAIRE_LOGS = _qn_steps.LOGS  # the rules' logs, where `mentorwijs run --part questionnaires` logs too
QN_WAVE_SOURCES = _qn_steps.wave_sources(config)
QN_FILE_SOURCES = _qn_steps.file_sources(config)


def questionnaire_outputs():
    """What the target `questionnaires` builds (besides the supervisors' tables)."""
    return _qn_steps.questionnaire_targets(config)


def questionnaire_exclusion_fragments():
    """The exclusion fragments of the questionnaire stages (ingest per source and wave, the links)."""
    return _qn_steps.questionnaire_exclusion_fragments(config)
