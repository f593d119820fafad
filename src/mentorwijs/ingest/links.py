"""Links between the study's own files, the flow of participants, and the CBS hand-over.

employee -> supervisor (the Castor id the employee gave, pseudonymised like the supervisor's
own id) -> training group (the Castor study export, else the invitation list) -> the schedule
(region, delivery mode, first and last meeting; ``cohort`` is the calendar month of the last
meeting, month 0). A reference that resolves to nobody is a logged exclusion, never a silent drop.

Flow fragments (``population, order, step, n``): supervisors ``invited`` (1), ``completed_T<k>``
(10 + k); employees ``completed_questionnaire`` (1), ``excluded_refused_linkage`` (2),
``excluded_not_linked_to_training`` (3, only when some are), ``sent_to_cbs`` (4). A step named
``excluded_<reason>`` leaves the flow. The register part continues the employees' flow from
order 110.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from mentorwijs.errors import InputError
from mentorwijs.files import file_contract
from mentorwijs.ingest.build import EXCLUSION_COLUMNS, natural_key, wave_sort_key

FLOW_COLUMNS = ["population", "order", "step", "n"]
GROUP_COLUMNS = ["training_group", "region", "mode", "first_meeting", "last_meeting", "cohort"]


def flow_table(rows: Sequence[tuple[str, int, str, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=FLOW_COLUMNS).astype({"order": "int64", "n": "int64"})
    return frame.sort_values(["population", "order"], kind="mergesort").reset_index(drop=True)


def _exclusions(records: pd.Series, reasons: pd.Series, source: str, wave: pd.Series | str = "") -> pd.DataFrame:
    frame = pd.DataFrame({"source": source, "wave": wave, "record": records.astype(str), "reason": reasons.astype(str),
                          "n": 1})
    frame = frame[reasons.notna().values]
    frame = frame.assign(_w=frame["wave"].map(wave_sort_key)).sort_values(["_w", "record", "reason"], kind="mergesort")
    return frame[EXCLUSION_COLUMNS].astype({"n": "int64"}).reset_index(drop=True)


def group_table(schedule: pd.DataFrame) -> pd.DataFrame:
    """Per training group: region, mode, first and last meeting, and ``cohort`` (YYYY-MM of the last meeting)."""
    groups = schedule.copy()
    groups["cohort"] = pd.to_datetime(groups["last_meeting"]).dt.strftime("%Y-%m").astype("string")
    return groups[[c for c in GROUP_COLUMNS if c in groups.columns]]


def supervisor_groups(study: pd.DataFrame, invitations: pd.DataFrame) -> pd.DataFrame:
    """Per supervisor pseudonym: the training group (the Castor study export wins over the invitation list)."""
    frames = []
    for frame in (study, invitations):
        if "training_group" in frame.columns:
            part = frame[["supervisor", "training_group"]].dropna(subset=["supervisor"])
            frames.append(part.drop_duplicates("supervisor", keep="first"))
    known = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["supervisor", "training_group"])
    known = known.sort_values("training_group", na_position="last", kind="mergesort")
    known = known.drop_duplicates("supervisor", keep="first")
    return known.astype({"supervisor": "string", "training_group": "string"}).reset_index(drop=True)


def link_supervisors_long(survey: pd.DataFrame, study: pd.DataFrame, invitations: pd.DataFrame,
                          schedule: pd.DataFrame, *, scale_items: Sequence[str], scales: Sequence[str],
                          waves: Sequence[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """supervisors_long (one row per supervisor per wave), its exclusions and the supervisors' flow.

    Columns: ``supervisor, training_group, wave``, the scale scores, the survey's other items
    (process evaluation), the baseline covariates of the Castor study export, and the group's
    ``mode, region, cohort``. ``waves`` (the configured waves) puts a wave nobody completed in
    the flow with n = 0.
    """
    groups = supervisor_groups(study, invitations)
    table = survey.merge(groups, on="supervisor", how="left")
    schedule_groups = group_table(schedule)
    known_groups = set(schedule_groups["training_group"].dropna())
    reason = pd.Series(pd.NA, index=table.index, dtype="string")
    reason[table["training_group"].isna()] = ("supervisor has no training group (not in the study "
                                              "export or invitation list)")
    unknown = table["training_group"].notna() & ~table["training_group"].isin(known_groups)
    reason[unknown] = "training group not in the schedule"
    exclusions = _exclusions(table["supervisor"], reason, "supervisors", table["wave"])
    kept = table[reason.isna()].copy()
    baseline = study.drop(columns=[c for c in ("wave", "completed_on", "training_group") if c in study.columns])
    clash = sorted((set(baseline.columns) - {"supervisor"}) & set(kept.columns))
    if clash:
        raise InputError(f"the study export and the survey both have columns {clash}",
                         hint="give the study export's items other canonical names in its codebook")
    kept = kept.merge(baseline.drop_duplicates("supervisor"), on="supervisor", how="left")
    kept = kept.merge(schedule_groups[["training_group", "mode", "region", "cohort"]], on="training_group", how="left")
    score_cols = [s for s in scales if s in kept.columns]
    keys = ["supervisor", "training_group", "wave"] + [c for c in ("completed_on",) if c in survey.columns]
    other = sorted((c for c in survey.columns if c not in keys and c not in scale_items and c not in score_cols),
                   key=natural_key)
    covariates = sorted((c for c in baseline.columns if c != "supervisor"), key=natural_key)
    columns = keys + score_cols + other + covariates + ["mode", "region", "cohort"]
    kept = kept[columns]
    kept = kept.assign(_w=kept["wave"].map(wave_sort_key)).sort_values(["supervisor", "_w"], kind="mergesort")
    kept = kept.drop(columns="_w").reset_index(drop=True)
    waves = sorted(set(waves or []) | set(survey["wave"].dropna().unique()), key=wave_sort_key)
    flow = [("supervisors", 1, "invited", int(invitations["supervisor"].nunique()))]
    for wave in waves:
        flow.append(("supervisors", 10 + wave_sort_key(wave), f"completed_{wave}",
                     int(survey.loc[survey["wave"] == wave, "supervisor"].nunique())))
    return kept, exclusions, flow_table(flow)


def link_trainees(employees: pd.DataFrame, study: pd.DataFrame, invitations: pd.DataFrame, schedule: pd.DataFrame,
                  *, supervisor_covariates: Sequence[str], wave: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """trainees (the hand-over to the register part), its exclusions and the employees' flow.

    One row per employee who consented to register linkage and whose supervisor resolves to a
    training group in the schedule: the columns of the hand-over's contract
    (:data:`mentorwijs.files.FILES` ``trainees``: ``person, training_group, region, cohort,
    first_meeting, last_meeting, mode, supervisor``) and ``sup_<covariate>`` for each supervisor
    covariate.
    """
    table = employees.rename(columns={"supervisor_ref": "supervisor"})[["person", "consent", "supervisor"]].copy()
    groups = supervisor_groups(study, invitations)
    known = set(groups["supervisor"])
    table = table.merge(groups, on="supervisor", how="left")
    schedule_groups = group_table(schedule)
    in_schedule = set(schedule_groups["training_group"].dropna())
    reason = pd.Series(pd.NA, index=table.index, dtype="string")
    refused = table["consent"] != 1
    reason[refused & table["consent"].notna()] = "refused register linkage"
    reason[table["consent"].isna()] = "consent to register linkage not answered"
    open_ = reason.isna()
    reason[open_ & table["supervisor"].isna()] = "supervisor reference missing or invalid"
    open_ = reason.isna()
    reason[open_ & ~table["supervisor"].isin(known)] = "supervisor reference resolves to nobody"
    open_ = reason.isna()
    reason[open_ & table["training_group"].isna()] = "supervisor has no training group"
    open_ = reason.isna()
    reason[open_ & ~table["training_group"].isin(in_schedule)] = "training group not in the schedule"
    exclusions = _exclusions(table["person"], reason, "employees", wave)
    kept = table[reason.isna()].drop(columns="consent")
    kept = kept.merge(schedule_groups, on="training_group", how="left")
    covariates = (study[["supervisor"] + [c for c in supervisor_covariates if c in study.columns]]
                  .drop_duplicates("supervisor"))
    missing = [c for c in supervisor_covariates if c not in study.columns]
    if missing:
        raise InputError(f"the supervisors' study export has no columns {missing} for the hand-over",
                         hint="check ingest.handover.supervisor_covariates in config.yaml against the "
                              "study export's codebook")
    covariates = covariates.rename(columns={c: f"sup_{c}" for c in supervisor_covariates})
    kept = kept.merge(covariates, on="supervisor", how="left")
    columns = [*file_contract("trainees").column_names, *(f"sup_{c}" for c in supervisor_covariates)]
    kept = kept[columns].sort_values("person", kind="mergesort").reset_index(drop=True)
    n_refused = int(refused.sum())
    unlinked = int(len(table) - n_refused - len(kept))
    flow = [("employees", 1, "completed_questionnaire", len(table)),
            ("employees", 2, "excluded_refused_linkage", n_refused)]
    if unlinked:
        flow.append(("employees", 3, "excluded_not_linked_to_training", unlinked))
    flow.append(("employees", 4, "sent_to_cbs", len(kept)))
    return kept, exclusions, flow_table(flow)


def cbs_identifier_file(trainees: pd.DataFrame, linkage: pd.DataFrame, identifiers: Sequence[str]) -> pd.DataFrame:
    """The file CBS links: ``study_number`` and the identifiers it needs, for the employees handed over."""
    chosen = linkage[linkage["person"].isin(trainees["person"])]
    present = [c for c in identifiers if c in chosen.columns]
    frame = chosen[["raw_id"] + present].rename(columns={"raw_id": "study_number"})
    return frame.sort_values("study_number", kind="mergesort").reset_index(drop=True)
