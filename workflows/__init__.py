"""Engine layer: load, validate and version BPMN; start and advance instances; route lanes.

The only package that imports SpiffWorkflow for running. No Flask views here.
"""
