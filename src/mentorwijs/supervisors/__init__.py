"""The supervisors' outcomes: mixed models of change, sensitivity, attrition, process
evaluation and the employees' questionnaire tables."""
