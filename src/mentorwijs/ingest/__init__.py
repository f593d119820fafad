"""The questionnaire part (outside CBS): readers per export format, codebook mapping, missing
reasons, record rules, scale scores and reliability, links, pseudonymisation and the CBS hand-over.

Modules: :mod:`.text` (encoding, separator, records), :mod:`.readers` (one per format),
:mod:`.columns` (raw column per item), :mod:`.values` (what a cell means), :mod:`.clean`
(record rules), :mod:`.quality` (pandera at stage boundaries, data-quality table),
:mod:`.scales` (scores, Cronbach's alpha), :mod:`.build` (the tables of one ingest job),
:mod:`.links` (supervisors_long, trainees, flow), :mod:`.bootstrap` (codebook drafts),
:mod:`.pipeline` (stages, ``check_file``), :mod:`.steps` (the part's steps declared once,
``run_questionnaires``), :mod:`.output` (writers).
"""

from mentorwijs.ingest.clean import CleaningOptions
from mentorwijs.ingest.pipeline import check_file, ingest_wave
from mentorwijs.ingest.steps import run_questionnaires

__all__ = ["CleaningOptions", "check_file", "ingest_wave", "run_questionnaires"]
